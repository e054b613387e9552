import { MemorySink, MemorySource } from "../lib/io/stream.ts";
import { assertEquals } from "../lib/testing/assert.ts";
import { command, HELP } from "./bdiff.ts";

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

Deno.test("bdiff counts differing blocks and exits 1 when any differs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = new Uint8Array(512 * 5 + 100);
    const b = a.slice(0, 512 * 4 + 7);
    b[513] = 0xab;
    b[512 * 3] = 1;
    await Deno.writeFile(`${dir}/a`, a);
    await Deno.writeFile(`${dir}/b`, b);
    assertEquals(await run([`${dir}/a`, `${dir}/b`]), {
      code: 1,
      stdout: "2/4 differs\n",
      stderr: "",
    });
    assertEquals((await run([`${dir}/a`, `${dir}/a`])).stdout, "0/5 differs\n");
    assertEquals((await run([`${dir}/a`, `${dir}/a`])).code, 0);
    const small = new Uint8Array(4);
    const other = Uint8Array.of(0, 0xab, 0, 0);
    await Deno.writeFile(`${dir}/s`, small);
    await Deno.writeFile(`${dir}/t`, other);
    const verbose = await run(["-b", "4", "-l", "3", "-v", "-d", `${dir}/s`, `${dir}/t`]);
    assertEquals(
      verbose.stdout,
      "block 0 differ\n0000\n0000\n---\n00ab\n0000\n_X\n__\n1/1 differs\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bdiff -h prints the original help", async () => {
  assertEquals(await run(["-h"]), { code: 0, stdout: HELP, stderr: "" });
  assertEquals(
    HELP,
    "bdiff: Show block diff.\nusage:bdiff [opt] FILE1 FILE2\n  -h : show this message.\n" +
      "  -b SIZE: block size in bytes (default: 512)\n  -v : verbose messages to stderr.\n" +
      "  -l : line size in printing different block contents.\n  -d : show diff for different contents.\n",
  );
});
