/**
 * wlog tools over the shared vectors made by walb-tools 1.0.19: wlog-show text, wlog-redo
 * image hashes and statistics, wlog-gen reproduction with --seed.
 */
import { sha1File as sha1 } from "../../lib/testing/files.ts";
import { MemorySink, MemorySource } from "../../lib/io/stream.ts";
import { assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import type { Command, CommandIo } from "../../cmd/command.ts";
import { command as wlogGen } from "../../cmd/wlog_gen.ts";
import { command as wlogRedo } from "../../cmd/wlog_redo.ts";
import { command as wlogShow } from "../../cmd/wlog_show.ts";

const WLOGS = ["w1", "w2", "w3", "w4-pbs4k"] as const;

async function run(
  command: Command,
  args: string[],
  stdin = new Uint8Array(0),
): Promise<{ code: number; stdout: string; stderr: string; bytes: Uint8Array }> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const io: CommandIo = { stdin: new MemorySource(stdin), stdout, stderr };
  const code = await command.run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text(), bytes: stdout.bytes() };
}

async function expectedSha1(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (
    const line of (await Deno.readTextFile(`${VECTORS_DIR}expected-image-sha1.txt`)).split("\n")
  ) {
    const match = /^(.*\S)\s+([0-9a-f]{40})$/.exec(line);
    if (match) map.set(match[1]!, match[2]!);
  }
  return map;
}

for (const name of WLOGS) {
  Deno.test(`wlog-show prints ${name}.wlog like the original`, async () => {
    const expected = await Deno.readTextFile(`${VECTORS_DIR}${name}.wlog-show.txt`);
    const result = await run(wlogShow, [`${VECTORS_DIR}${name}.wlog`]);
    assertEquals([result.code, result.stderr], [0, ""]);
    assertEquals(result.stdout, expected);
  });
}

Deno.test("wlog-show reads stdin and -validate passes on every vector", async () => {
  for (const name of WLOGS) {
    const bytes = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
    const result = await run(wlogShow, ["-validate", "-none"], bytes);
    assertEquals([result.code, result.stdout, result.stderr], [0, "", ""], name);
  }
});

Deno.test("wlog-show -validate reports a corrupted record and exits 1", async () => {
  const bytes = (await Deno.readFile(`${VECTORS_DIR}w1.wlog`)).slice();
  bytes[4096 + 512 + 3]! ^= 0x40;
  const result = await run(wlogShow, ["-validate", "-stat"], bytes);
  assertEquals(result.code, 1);
  assertEquals(result.stdout.split("\n")[2], "reallyEndLsid 399");
  const line = "ERROR NG:wlog_r: lsid          1    1 io        960   40 flags E-- csum ba85a594:";
  assertEquals(result.stderr.includes(line), true, result.stderr);
});

async function redoAll(baseImage: Uint8Array | null, names: readonly string[], zero: boolean) {
  const dir = await Deno.makeTempDir({ prefix: "wlog_test_" });
  try {
    const image = `${dir}/image`;
    await Deno.writeFile(image, baseImage ?? new Uint8Array(2 * 1024 * 1024));
    const outputs: string[] = [];
    for (const name of names) {
      const args = [...(zero ? ["-z"] : []), "-i", `${VECTORS_DIR}${name}.wlog`, image];
      const result = await run(wlogRedo, args);
      assertEquals([result.code, result.stderr], [0, ""], `${name}: ${result.stderr}`);
      outputs.push(result.stdout);
    }
    return { sha1: await sha1(image), outputs };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("wlog-redo -z on a zero image gives the expected sha1 of each wlog", async () => {
  const expected = await expectedSha1();
  for (const name of WLOGS) {
    const { sha1 } = await redoAll(null, [name], true);
    assertEquals(sha1, expected.get(`zero+wlog-redo -z ${name}`), name);
  }
});

Deno.test("wlog-redo -z on base-2M.img, wlogs in order, gives the expected sha1s", async () => {
  const expected = await expectedSha1();
  const base = await Deno.readFile(`${VECTORS_DIR}base-2M.img`);
  for (let i = 1; i <= WLOGS.length; i++) {
    const { sha1 } = await redoAll(base, WLOGS.slice(0, i), true);
    assertEquals(sha1, expected.get(`base+wlog-redo -z up to ${WLOGS[i - 1]}`), WLOGS[i - 1]);
  }
});

Deno.test("wlog-redo without -z skips discards (WITHOUT -z row)", async () => {
  const expected = await expectedSha1();
  const base = await Deno.readFile(`${VECTORS_DIR}base-2M.img`);
  const { sha1 } = await redoAll(base, WLOGS, false);
  assertEquals(sha1, expected.get("base+wlog-redo (no -z) w1..w4"));
});

Deno.test("wlog-redo -z prints the F10 statistics of w1", async () => {
  const { outputs } = await redoAll(null, ["w1"], true);
  assertEquals(
    outputs[0],
    [
      "Applied lsid range [0, 399)",
      "normal:         362 LB",
      "discard:          0 LB",
      "allZero:        829 LB",
      "ignored:          0 LB",
      "padding:         35 PB",
      "normal:              17 (       1191 LB)",
      "discard:              0 (          0 LB)",
      "written:             17 (       1191 LB)",
      "overwritten:          0 (          0 LB)",
      "clipped:              0 (          0 LB)",
      "",
    ].join("\n"),
  );
});

Deno.test("wlog-gen --original-sizes --seed reproduces the four vectors byte for byte", async () => {
  const cases: [string, string[]][] = [
    ["w1", ["--original-sizes", "--seed", "1", "--maxDiscardSize", "128K", "--rand"]],
    ["w2", ["--original-sizes", "--seed", "2", "--maxDiscardSize", "128K"]],
    ["w3", [
      "--original-sizes",
      "--seed",
      "3",
      "--maxIoSize",
      "64K",
      "--maxDiscardSize",
      "512K",
      "--rand",
      "--lsid",
      "1000000",
    ]],
    ["w4-pbs4k", [
      "--original-sizes",
      "--seed",
      "4",
      "-b",
      "4096",
      "--maxPackSize",
      "64K",
      "--maxDiscardSize",
      "128K",
      "--rand",
    ]],
  ];
  for (const [name, extra] of cases) {
    const result = await run(wlogGen, ["-s", "2M", "-z", "128K", ...extra]);
    assertEquals(result.code, 0, result.stderr);
    const expected = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
    assertEquals(result.bytes.length, expected.length, name);
    assertEquals(result.bytes, expected, name);
  }
});

Deno.test("wlog-gen produces its maximum sizes (the original never did) unless --original-sizes", async () => {
  // One-block range: the original's draw is always the minimum; ours covers both ends.
  const sizes = async (extra: string[]): Promise<Set<number>> => {
    const result = await run(wlogGen, [
      "-s",
      "2M",
      "-z",
      "64K",
      "--seed",
      "7",
      "--nopadding",
      "--nodiscard",
      "--minIoSize",
      "512",
      "--maxIoSize",
      "1024",
      ...extra,
    ]);
    assertEquals(result.code, 0, result.stderr);
    const shown = await run(wlogShow, ["-pack"], result.bytes.slice());
    const found = new Set<number>();
    for (const match of shown.stdout.matchAll(/^wlog_r: .* io +\d+ +(\d+) flags E--/gm)) {
      found.add(Number(match[1]));
    }
    return found;
  };
  assertEquals([...(await sizes([]))].sort(), [1, 2]);
  assertEquals([...(await sizes(["--original-sizes"]))], [1]);
});
