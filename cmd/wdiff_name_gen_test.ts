import { MemorySink, MemorySource } from "../lib/io/stream.ts";
import { assert, assertEquals } from "../lib/testing/assert.ts";
import { command, HELP } from "./wdiff_name_gen.ts";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const code = await command.run(args, {
    stdin: new MemorySource(new Uint8Array()),
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

Deno.test("wdiff-name-gen prints canonical names", async () => {
  assertEquals(await run(["-d", "20140102030405", "5", "10"]), {
    code: 0,
    stdout: "20140102030405-M--5-10.wdiff\n",
    stderr: "",
  });
  assertEquals(
    (await run(["-d", "20140102030405", "-nomerge", "0", "7", "8", "12"])).stdout,
    "20140102030405----0-7-8-12.wdiff\n",
  );
  assertEquals(
    (await run(["-d", "20140102030405", "-comp", "3", "9"])).stdout,
    "20140102030405-MC-3-9.wdiff\n",
  );
  // No MetaDiff check, bad gids dropped silently.
  assertEquals(
    (await run(["-d", "20140102030405", "10", "x", "5"])).stdout,
    "20140102030405-M--10-5.wdiff\n",
  );
  assert(/^\d{14}-M--1-2\.wdiff\n$/.test((await run(["1", "2"])).stdout));
});

Deno.test("wdiff-name-gen reports errors and help as the original", async () => {
  const count = await run(["-d", "20140102030405", "1", "2", "3"]);
  assertEquals(count.code, 1);
  assert(count.stderr.includes(" ERROR wdiff-name-gen:Option:specify two or four lsids:3\n"));
  const month = await run(["-d", "20141302030405", "1", "2"]);
  assertEquals(month.code, 1);
  assert(month.stderr.includes("mon must be between 1 and 12."));
  assertEquals(await run(["-h"]), { code: 0, stdout: HELP, stderr: "" });
  assertEquals(
    HELP,
    "Generate walb diff name\n\nusage:wdiff-name-gen [opt] LSID_LIST\n  LSID_LIST : specify two or four lsids\n" +
      "  -h : put this message.\n  -d : datetime string (YYYYMMDDhhmmss)\n" +
      "  -nomerge : do not set mergeable flag.\n  -comp : set compDiff flag.\n  -debug : put debug messages.\n",
  );
});
