/**
 * Subprocess smoke tests of the `walb` launcher: routing, help, unknown commands.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { walb } from "./run_walb.ts";

Deno.test("walb --help lists every command and exits 0", async () => {
  const result = await walb(["--help"]);
  assertEquals(result.code, 0);
  for (const name of ["wlog-show", "wdiff-merge", "virt-full-cat", "demo"]) {
    assert(result.stdout.includes(`  ${name} `), `help lists ${name}`);
  }
});

Deno.test("walb with an unknown command names it and exits 2", async () => {
  const result = await walb(["no-such-tool"]);
  assertEquals(result.code, 2);
  assert(result.stderr.includes("unknown command 'no-such-tool'"), result.stderr);
});

Deno.test("walb without a command prints the help and exits 2", async () => {
  const result = await walb([]);
  assertEquals(result.code, 2);
  assert(result.stdout.includes("usage: walb <command>"));
});
