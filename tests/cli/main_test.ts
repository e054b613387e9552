/**
 * Subprocess smoke tests of the `walb` launcher: routing, help, unknown commands.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `./walb args...`; returns exit code, stdout and stderr. */
export async function walb(
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(`${ROOT}walb`, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

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
