/**
 * `walb walbc` and `walb wdiff-send` as subprocesses against a real `walb archive` process
 * on loopback: init-vol, the debug commands, wdiff-send of the vector wdiffs, get targets,
 * restore and its image sha1, merge, apply, del-restored, status, stop/start, refusals
 * with exit status 1 and the error log line, usage errors, shutdown.
 */
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { sha1File } from "./archive_client.ts";

const MAIN = new URL("../../cmd/main.ts", import.meta.url).pathname;
const WALBC = new URL("../../walbc", import.meta.url).pathname;
const DENO = new URL("../../node_modules/.bin/deno", import.meta.url).pathname;
const VOL = "vol0";
const UUID = "00112233445566778899aabbccddeeff";
const SHA1_W2 = "6a2ba3b0162fd9cc7fc436324315d0c0835dcf3a";
const WDIFFS = ["w1.sorted.wdiff", "w2.sorted.wdiff", "w3.sorted.wdiff", "w4-pbs4k.sorted.wdiff"];
const ERROR_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ERROR walbc error: /;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function walb(args: string[]): Promise<Result> {
  const output = await new Deno.Command(DENO, {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { DENO_NO_PACKAGE_JSON: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("walbc and wdiff-send against a walb archive process", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-walbc-" });
  const port = 20000 + ((Deno.pid + 7) % 20000);
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-all",
      MAIN,
      "archive",
      "-b",
      baseDir,
      "-p",
      String(port),
      "-id",
      "a0",
      "-discard",
      "zero",
    ],
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const walbc = (...args: string[]) =>
    walb(["walbc", "-a", "127.0.0.1", "-p", String(port), "-id", "ctl", ...args]);
  const ok = async (...args: string[]) => {
    const result = await walbc(...args);
    assertEquals(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const refused = async (pattern: string, ...args: string[]) => {
    const result = await walbc(...args);
    assertEquals(result.code, 1, args.join(" "));
    assertEquals(result.stdout, "");
    assert(ERROR_LINE.test(result.stderr), result.stderr);
    assert(result.stderr.includes(pattern), result.stderr);
  };
  const waitFor = async (what: string, args: string[], expected: string) => {
    for (let i = 0; i < 100; i++) {
      if ((await walbc(...args)).stdout === expected) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const send = (i: number, extra: string[] = []) =>
    walb([
      "wdiff-send",
      "-g0",
      String(i),
      "-g1",
      String(i + 1),
      "-merge",
      i === 0 ? "0" : "1",
      "-time",
      `2020010100000${i + 1}`,
      "-uuid",
      UUID,
      ...extra,
      "127.0.0.1",
      String(port),
      VOL,
      "2M",
      VECTORS_DIR + WDIFFS[i],
    ]);
  try {
    for (let i = 0;; i++) {
      const result = await walbc("get", "host-type");
      if (result.code === 0) {
        assertEquals(result.stdout, "archive\n");
        break;
      }
      if (i > 100) throw new Error(`archive did not start: ${result.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // usage and local checks: nothing is sent
    const noCommand = await walbc();
    assertEquals(noCommand.code, 1);
    assert(noCommand.stdout.startsWith("OptionError:command not specified\n"), noCommand.stdout);
    const help = await walb(["walbc", "-h"]);
    assertEquals(help.code, 0);
    assert(help.stdout.includes("restore VOL GID"), help.stdout);
    const badOption = await walbc("restore", VOL, "-x");
    assertEquals([badOption.code, badOption.stdout.split("\n")[0]], [1, "OptionError:bad opt"]);
    assertEquals((await walbc("restore", "-h")).code, 0);
    await refused("bad volume id:bad_id", "init-vol", "bad_id");
    await refused("-retry is not allowed", "-retry", "1", "init-vol", VOL);
    await refused("no such target:foo", "get", "foo");

    // init-vol, refusal in a wrong state, debug commands through the wrapper script
    assertEquals(await ok("init-vol", VOL), "");
    await refused("bad state:SyncReady:Clear:InitVol", "init-vol", VOL);
    assertEquals(await ok("get", "state", VOL), "SyncReady\n");
    await Deno.mkdir(`${baseDir}/_images`, { recursive: true });
    await Deno.copyFile(VECTORS_DIR + "base-2M.img", `${baseDir}/_images/wb_${VOL}`);
    const wrapper = await new Deno.Command(WALBC, {
      args: ["-a", "127.0.0.1", "-p", String(port), "dbg-set-uuid", VOL, UUID],
    }).output();
    assertEquals(wrapper.code, 0, new TextDecoder().decode(wrapper.stderr));
    await ok("dbg-set-base", VOL, "<|0|>-20200101000000");
    await ok("dbg-set-state", VOL, "Archived");
    assertEquals(await ok("get", "uuid", VOL), `${UUID}\n`);

    // wdiff-send of the four vector wdiffs
    for (let i = 0; i < 4; i++) {
      const result = await send(i);
      assertEquals([result.code, result.stdout, result.stderr], [0, "", ""], `send ${i}`);
    }
    assertEquals((await send(0, ["-msg", "too-old-diff"])).code, 0);
    const tooOld = await send(0);
    assertEquals(tooOld.code, 1);
    assert(tooOld.stderr.includes("runDummyProxy:bad response:too-old-diff:accept"));

    assertEquals(
      await ok("get", "restorable", VOL),
      "0 2020-01-01T00:00:00 0\n4 2020-01-01T00:00:04 1\n",
    );
    const diffs = (await ok("get", "diff", VOL)).split("\n");
    assertEquals(diffs.length, 5);
    assert(diffs[0]!.startsWith("|0|-->|1| -- 2020-01-01T00:00:01 "), diffs[0]);
    assert(diffs[3]!.startsWith("|3|-->|4| M- 2020-01-01T00:00:04 "), diffs[3]);
    assertEquals((await ok("get", "applicable-diff", VOL, "2")).split("\n").length, 3);
    assertEquals(await ok("get", "num-diff", VOL), "4\n");

    // restore and the restored image
    assertEquals(await ok("restore", VOL, "2"), "");
    await waitFor("restore", ["get", "restored", VOL], "2\n");
    const path = (await ok("get", "restored-path", VOL, "2")).trimEnd();
    assertEquals(await sha1File(path), SHA1_W2);
    await refused("already restored", "restore", VOL, "2");

    // merge, apply, del-restored
    assertEquals(await ok("merge", VOL, "1", "gid", "4"), "");
    await waitFor("merge", ["get", "num-diff", VOL], "2\n");
    assertEquals(await ok("apply", VOL, "4"), "");
    await waitFor("apply", ["get", "base", VOL], "<|4|>-20200101000004\n");
    await ok("del-restored", VOL, "2");
    assertEquals(await ok("get", "restored", VOL), "");
    assert((await ok("status", VOL)).includes("state Archived\n"));

    // stop, start, refusals in the wrong state
    assertEquals(await ok("stop", VOL), "");
    await waitFor("stop", ["get", "state", VOL], "Stopped\n");
    await refused("bad state", "restore", VOL, "4");
    await ok("start", VOL);
    await refused("bad state:Archived:Stopped:Start", "start", VOL);
    assertEquals(await ok("get", "state", VOL), "Archived\n");

    assertEquals(await ok("shutdown"), "");
    assertEquals((await child.status).code, 0);
  } finally {
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
    await Deno.remove(baseDir, { recursive: true });
  }
});
