/**
 * NBD server benchmark: our server (memory and file backends) against `nbdkit file` on the
 * same file, driven by real clients.
 *
 * Rows: nbdcopy of a random file into the export and out of it (MB/s), and fio 4 KiB random
 * writes and reads at QD 32 through fio's nbd engine (IOPS), when fio is installed.
 *
 * Usage: deno run --allow-all bench/nbd.ts [--size-mib N] [--runtime-s N] [--dir DIR]
 *   [--only REGEX]
 * Defaults: 256 MiB, 10 s fio runs, /var/tmp/walb-nbd-bench.
 */
import { parseArgs } from "node:util";
import { silentLogger } from "../lib/nbd/backend.ts";
import { NbdServer } from "../lib/nbd/server.ts";
import { FileBackend, MemoryBackend } from "../lib/nbd/testing_backends.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "size-mib": { type: "string", default: "256" },
    "runtime-s": { type: "string", default: "10" },
    dir: { type: "string", default: "/var/tmp/walb-nbd-bench" },
    only: { type: "string", default: "" },
  },
});
const MiB = 1 << 20;
const sizeBytes = Number(values["size-mib"]) * MiB;
const runtimeS = Number(values["runtime-s"]);
const dir = values.dir!;
const only = values.only ? new RegExp(values.only) : undefined;

function have(binary: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
    .outputSync().success;
}

async function run(cmd: string, args: string[]): Promise<{ seconds: number; stdout: string }> {
  const start = performance.now();
  const output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const seconds = (performance.now() - start) / 1000;
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return { seconds, stdout: new TextDecoder().decode(output.stdout) };
}

interface Target {
  name: string;
  uri: string;
  stop(): Promise<void>;
}

async function ourServer(name: string, backend: MemoryBackend | FileBackend): Promise<Target> {
  const socket = `${dir}/${name.replace(/\W+/g, "-")}.sock`;
  const server = await NbdServer.listen(backend, { unixPath: socket, logger: silentLogger });
  return {
    name,
    uri: `nbd+unix:///?socket=${socket}`,
    async stop() {
      await server.stop();
      if (backend instanceof FileBackend) backend.close();
    },
  };
}

async function nbdkitFile(image: string): Promise<Target> {
  const socket = `${dir}/nbdkit.sock`;
  const pidFile = `${dir}/nbdkit.pid`;
  await Deno.remove(pidFile).catch(() => {});
  await run("nbdkit", ["-U", socket, "-P", pidFile, "file", image]);
  for (let tries = 0; tries < 100; tries++) {
    try {
      await Deno.stat(pidFile);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const pid = Number((await Deno.readTextFile(pidFile)).trim());
  return {
    name: "nbdkit file",
    uri: `nbd+unix:///?socket=${socket}`,
    async stop() {
      Deno.kill(pid, "SIGTERM");
      for (let tries = 0; tries < 100; tries++) {
        try {
          Deno.kill(pid, "SIGCONT");
          await new Promise((resolve) => setTimeout(resolve, 50));
        } catch {
          return;
        }
      }
    },
  };
}

interface Row {
  target: string;
  test: string;
  value: string;
}
const rows: Row[] = [];

function report(target: string, test: string, value: string): void {
  rows.push({ target, test, value });
  console.log(`${target.padEnd(22)} ${test.padEnd(36)} ${value}`);
}

async function nbdcopyRows(target: Target, input: string): Promise<void> {
  const copyIn = await run("nbdcopy", ["--flush", input, target.uri]);
  report(target.name, `nbdcopy ${sizeBytes / MiB} MiB in`, mbps(copyIn.seconds));
  const copyOut = await run("nbdcopy", [target.uri, "null:"]);
  report(target.name, `nbdcopy ${sizeBytes / MiB} MiB out`, mbps(copyOut.seconds));
}

function mbps(seconds: number): string {
  return `${(sizeBytes / 1e6 / seconds).toFixed(0)} MB/s`;
}

async function fioRows(target: Target): Promise<void> {
  for (const rw of ["randwrite", "randread"]) {
    const { stdout } = await run("fio", [
      "--name=nbd",
      "--ioengine=nbd",
      `--uri=${target.uri}`,
      `--rw=${rw}`,
      "--bs=4k",
      "--iodepth=32",
      `--size=${sizeBytes}`,
      "--time_based",
      `--runtime=${runtimeS}`,
      "--output-format=json",
    ]);
    // fio's nbd engine prints "fio: connected to NBD server" before the JSON.
    const job = JSON.parse(stdout.slice(stdout.indexOf("{"))).jobs[0];
    const side = rw === "randwrite" ? job.write : job.read;
    const p99 = side.clat_ns.percentile?.["99.000000"];
    report(
      target.name,
      `fio ${rw} 4 KiB QD 32`,
      `${Math.round(side.iops)} IOPS (${(side.bw_bytes / 1e6).toFixed(0)} MB/s, p99 ${
        p99 === undefined ? "?" : (p99 / 1000).toFixed(0)
      } µs)`,
    );
  }
}

async function main(): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const input = `${dir}/input.img`;
  const image = `${dir}/export.img`;
  const data = new Uint8Array(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 65536) {
    crypto.getRandomValues(data.subarray(offset, offset + 65536));
  }
  await Deno.writeFile(input, data);
  await Deno.writeFile(image, new Uint8Array(0));
  await Deno.truncate(image, sizeBytes);
  const makers: [string, () => Promise<Target>][] = [
    ["ours memory", () => ourServer("ours memory", new MemoryBackend(sizeBytes))],
    [
      "ours file",
      async () => ourServer("ours file", await FileBackend.open(image, { sizeBytes })),
    ],
  ];
  if (have("nbdkit")) makers.push(["nbdkit file", () => nbdkitFile(image)]);
  else console.log("skip: nbdkit not installed");
  const withFio = have("fio");
  if (!withFio) console.log("skip: fio not installed");
  console.log(`size ${sizeBytes / MiB} MiB, fio runtime ${runtimeS} s, files in ${dir}`);
  for (const [name, make] of makers) {
    if (only !== undefined && !only.test(name)) continue;
    const target = await make();
    try {
      if (have("nbdcopy")) await nbdcopyRows(target, input);
      if (withFio) await fioRows(target);
    } finally {
      await target.stop();
    }
  }
  console.log("\n| server | test | result |\n|---|---|---|");
  for (const row of rows) console.log(`| ${row.target} | ${row.test} | ${row.value} |`);
  await Deno.remove(dir, { recursive: true });
}

await main();
