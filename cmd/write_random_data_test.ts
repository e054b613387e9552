import { checksum } from "../lib/format/checksum/checksum.ts";
import { MemorySink, MemorySource } from "../lib/io/stream.ts";
import { assert, assertEquals } from "../lib/testing/assert.ts";
import { command as verify, HELP as VERIFY_HELP } from "./verify_written_data.ts";
import { command as write, HELP as WRITE_HELP } from "./write_random_data.ts";
import type { Command } from "./command.ts";

async function run(
  cmd: Command,
  args: string[],
  stdin = new Uint8Array(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const code = await cmd.run(args, { stdin: new MemorySource(stdin), stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

Deno.test("write_random_data writes the whole target by default and verify_written_data checks it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = `${dir}/disk`;
    await Deno.writeFile(target, new Uint8Array(512 * 300));
    const written = await run(write, ["-x", "16", target]);
    assertEquals(written.code, 0);
    const lines = written.stdout.trim().split("\n").map((l) => l.split(" "));
    let next = 0;
    const image = await Deno.readFile(target);
    for (const [offset, size, csum] of lines) {
      assertEquals(Number(offset), next);
      assert(Number(size) >= 1 && Number(size) < 16);
      const data = image.subarray(Number(offset) * 512, (Number(offset) + Number(size)) * 512);
      assertEquals(csum, checksum(data, 0).toString(16).padStart(8, "0"));
      next += Number(size);
    }
    assertEquals(next, 300);
    const ok = await run(verify, [target], new TextEncoder().encode(written.stdout));
    assertEquals(ok.code, 0);
    assert(ok.stdout.split("\n").filter((l) => l !== "").every((l) => l.startsWith("OK ")));
    // Corrupt one block: NG and exit 1.
    const file = await Deno.open(target, { write: true });
    await file.seek(512 * 100, Deno.SeekMode.Start);
    await file.write(Uint8Array.of(1, 2, 3));
    file.close();
    const ng = await run(verify, ["-r", "-", target], new TextEncoder().encode(written.stdout));
    assertEquals(ng.code, 1);
    assertEquals(ng.stdout.split("\n").filter((l) => l.startsWith("NG ")).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write_random_data -set, -o, -s and fixed IO sizes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = `${dir}/disk`;
    await Deno.writeFile(target, new Uint8Array(4096 * 8));
    const result = await run(write, [
      "-b",
      "4096",
      "-o",
      "2",
      "-s",
      "4",
      "-n",
      "2",
      "-x",
      "2",
      "-set",
      "-1",
      target,
    ]);
    const csum = checksum(new Uint8Array(8192).fill(0xff), 0).toString(16).padStart(8, "0");
    assertEquals(result.stdout, `2 2 ${csum}\n4 2 ${csum}\n`);
    const image = await Deno.readFile(target);
    assertEquals(image.subarray(4096 * 2, 4096 * 6).every((b) => b === 0xff), true);
    assertEquals(image.subarray(0, 4096 * 2).every((b) => b === 0), true);
    await Deno.writeFile(`${dir}/recipe`, new TextEncoder().encode(result.stdout));
    assertEquals((await run(verify, ["-b", "4096", "-r", `${dir}/recipe`, target])).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write_random_data rejects bad sizes with the original messages", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    await Deno.writeFile(`${dir}/disk`, new Uint8Array(512));
    const cases: [string[], string][] = [
      [["-b", "0", `${dir}/disk`], "blockSize must be non-zero."],
      [["-n", "0", `${dir}/disk`], "minIoSize must be > 0."],
      [["-x", "0", `${dir}/disk`], "maxIoSize must be > 0."],
      [["-n", "5", "-x", "4", `${dir}/disk`], "minIoSize must be <= maxIoSize."],
      [["-q", "0", `${dir}/disk`], "queueSize must be non-zero."],
      [[`${dir}/empty`], "device or file size is 0."],
    ];
    for (const [args, message] of cases) {
      const result = await run(write, args);
      assertEquals(result.code, 1);
      assert(result.stderr.includes(` ERROR write_random_data:${message}`), result.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("write_random_data and verify_written_data print the original help", () => {
  assertEquals(
    WRITE_HELP,
    "write_random_data: generate random data and write them.\n" +
      "usage:write_random_data [opt] [DEVICE|FILE]\n" +
      "  -h : show this message.\n" +
      "  -b SIZE: block size [byte]. (default: 512)\n" +
      "  -o OFFSET: start offset [block]. (default: 0)\n" +
      "  -s SIZE: written size [block]. (default: device size)\n" +
      "  -n SIZE: minimum IO size [block]. (default: 1)\n" +
      "  -x SIZE: maximum IO size [block]. (default: 64)\n" +
      "  -set : fill 8bit data(default:none)\n" +
      "  -q : aio queue size (default: 128)\n" +
      "  -v : verbose messages to stderr.\n",
  );
  assertEquals(
    VERIFY_HELP,
    "verify_written_data: verify data written by write_random_data.\n" +
      "usage:verify_written_data [opt] DEVICE|FILE\n" +
      "  -h : show this message.\n" +
      "  -b SIZE: block size [byte]. (default: 512)\n" +
      "  -r PATH: recipe file path. '-' for stdin. (default: '-')\n" +
      "  -debug : put debug messages to stderr.\n",
  );
});
