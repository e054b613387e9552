/**
 * Subprocess tests pinning what `walb storage|proxy|archive` print: the `-h` text, the startup
 * log records (timestamps, the base directory and the host name masked) and the option errors.
 * The expected text is in golden/server_startup.txt; `UPDATE_GOLDEN=1` rewrites it.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const GOLDEN = new URL("./golden/server_startup.txt", import.meta.url);

/** One server invocation: `start` waits for the ready line, then stops it with SIGTERM. */
interface Case {
  role: string;
  args: string[];
  start: boolean;
}

const PEERS = ["-archive", "localhost:1", "-proxy", "localhost:2,localhost:3"];

const CASES: Case[] = [
  ...["archive", "proxy", "storage"].map((role) => ({ role, args: ["-h"], start: false })),
  { role: "archive", args: ["-p", "0"], start: true },
  { role: "archive", args: ["-p", "0", "-ka", "-debug", "-kaidle", "7"], start: true },
  { role: "archive", args: ["-p", "0", "-l", "server.log"], start: true },
  { role: "archive", args: ["-p", "0", "-kaidle", "90000"], start: false },
  { role: "archive", args: ["-p", "0", "-discard", "bad"], start: false },
  { role: "proxy", args: ["-p", "0"], start: true },
  { role: "proxy", args: ["-p", "0", "-ka", "-stop"], start: true },
  { role: "proxy", args: ["-p", "0", "-delay", "9", "-maxdelay", "3"], start: false },
  { role: "proxy", args: ["-p", "0", "-kacnt", "101"], start: false },
  { role: "storage", args: ["-p", "0", ...PEERS], start: true },
  { role: "storage", args: ["-p", "0", "-delay", "9", "-maxdelay", "3", ...PEERS], start: true },
  { role: "storage", args: ["-p", "0", "-ka", "-l", "server.log", ...PEERS], start: true },
  { role: "storage", args: ["-p", "0", "-kaintvl", "4000", ...PEERS], start: false },
  { role: "storage", args: ["-p", "0"], start: false },
];

/**
 * Masks what changes from run to run: timestamps, the base directory, the host name, and drops
 * the storage's proxy monitor records (their timing races with the shutdown).
 */
function mask(text: string, baseDir: string): string {
  return text
    .replaceAll(/^.* WARNING proxyMonitor:.*\n/gm, "")
    .replaceAll(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} /gm, "<time> ")
    .replaceAll(baseDir, "<base>")
    .replaceAll(`-id=${Deno.hostname()}\n`, "-id=<host>\n");
}

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, marker: string) {
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, decoder };
}

/** Runs one case; returns its transcript (exit code, stdout, stderr, log file). */
async function runCase(testCase: Case): Promise<string> {
  const baseDir = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(`${ROOT}walb`, {
      args: [testCase.role, "-b", baseDir, ...testCase.args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stdoutPromise = new Response(child.stdout).text();
    const reader = child.stderr.getReader();
    const logInFile = testCase.args.includes("-l");
    let stderr = "";
    if (testCase.start && !logInFile) {
      const first = await readUntil(reader, "Ready to accept connections");
      stderr = first.text;
      child.kill("SIGTERM");
    } else if (testCase.start) {
      const logPath = `${baseDir}/server.log`;
      for (let i = 0; i < 200; i++) {
        const log = await Deno.readTextFile(logPath).catch(() => "");
        if (log.includes("Ready to accept connections")) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      child.kill("SIGTERM");
    }
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value, { stream: true });
    }
    const status = await child.status;
    const stdout = await stdoutPromise;
    const log = logInFile ? await Deno.readTextFile(`${baseDir}/server.log`) : "";
    return mask(
      `$ walb ${testCase.role} -b <base> ${testCase.args.join(" ")}\n` +
        `code=${status.code}\n--- stdout\n${stdout}--- stderr\n${stderr}--- log\n${log}`,
      baseDir,
    );
  } finally {
    await Deno.remove(baseDir, { recursive: true });
  }
}

Deno.test("walb storage|proxy|archive: -h text, startup log and option errors are unchanged", async () => {
  const transcripts = [];
  for (const testCase of CASES) transcripts.push(await runCase(testCase));
  const actual = transcripts.join("=====\n");
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.writeTextFile(GOLDEN, actual);
    return;
  }
  const expected = await Deno.readTextFile(GOLDEN);
  assert(expected.length > 0, "golden transcript is empty");
  assertEquals(actual, expected);
});
