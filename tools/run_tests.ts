/**
 * Runs the test suite and prints a final line `N passed, N failed` (CI reads it).
 *
 * Usage: deno run --allow-all tools/run_tests.ts [PATH ...]
 * Installs the Debian packages the tests need when run as root and one is missing.
 * If the test run dies before its summary (a type error, say), the line still reports a failure.
 */

/** Debian packages the integration tests use (real NBD clients, qemu, FUSE, fio). */
const DEBIAN_PACKAGES: string[] = [
  "libnbd-bin",
  "nbdkit",
  "qemu-utils",
  "fuse3",
  "fio",
  "e2fsprogs",
  "mount",
  "libsnappy1v5", // the native snappy accelerator (ffi/libsnappy.ts), tested beside the wasm codec
];

async function run(cmd: string[], env: Record<string, string> = {}): Promise<number> {
  const child = new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).code;
}

async function ensurePackages(): Promise<void> {
  if (DEBIAN_PACKAGES.length === 0 || Deno.uid() !== 0) return;
  const missing: string[] = [];
  for (const name of DEBIAN_PACKAGES) {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Status}", name],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!new TextDecoder().decode(out.stdout).includes("install ok installed")) missing.push(name);
  }
  if (missing.length === 0) return;
  console.log(`installing Debian packages: ${missing.join(" ")}`);
  await run(["apt-get", "update", "-qq"]);
  await run(["apt-get", "install", "-y", "-qq", ...missing], { DEBIAN_FRONTEND: "noninteractive" });
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  await ensurePackages();
  const defaults = [
    "ffi/",
    "lib/",
    "cmd/",
    "tests/vectors/",
    "tests/acceptance/",
    "tests/cli/",
    "tests/fuzz/",
    "tests/integration/",
    "tests/review/",
    "mod.ts",
  ];
  const paths = Deno.args.length > 0 ? Deno.args : defaults.filter(exists);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--doc", "--parallel", ...paths],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let passed = 0;
  let failed = 0;
  let sawSummary = false;
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    let pending = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      await sink.write(chunk);
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^(ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(line);
        if (match) {
          sawSummary = true;
          passed += Number(match[2]);
          failed += Number(match[3]);
        }
      }
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const status = await child.status;
  if (!sawSummary || (status.code !== 0 && failed === 0)) failed += 1;
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

Deno.exit(await main());
