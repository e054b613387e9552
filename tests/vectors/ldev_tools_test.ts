/**
 * Log-device tools over the shared vectors: wlog-restore each wlog into an ldev image made with
 * our library, then wldev-info, wldev-show, wlog-cat, wldev-dump and wdev-redo against the
 * original's outputs (wlog-show text, wlog bytes, image sha1s); a ring wrap; bad input; a
 * loop-device variant (root and losetup only); and the exact `-h` texts.
 */
import { createHash } from "node:crypto";
import { MemorySink, MemorySource } from "../../lib/io/stream.ts";
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { buildSuperSector, formatLdevSuper } from "../../lib/format/wlog/mod.ts";
import type { Command, CommandIo } from "../../cmd/command.ts";
import { command as wlogCat } from "../../cmd/wlog_cat.ts";
import { command as wlogRestore } from "../../cmd/wlog_restore.ts";
import { command as wldevInfo } from "../../cmd/wldev_info.ts";
import { command as wldevShow } from "../../cmd/wldev_show.ts";
import { command as wldevDump } from "../../cmd/wldev_dump.ts";
import { command as wdevRedo } from "../../cmd/wdev_redo.ts";
import { command as wlogRedo } from "../../cmd/wlog_redo.ts";
import { command as wlogShow } from "../../cmd/wlog_show.ts";

const WLOGS = ["w1", "w2", "w3", "w4-pbs4k"] as const;
const LDEV_BYTES = 4 * 1024 * 1024;
const DDEV_BYTES = 2 * 1024 * 1024;

async function run(
  command: Command,
  args: string[],
  stdin: Uint8Array = new Uint8Array(0),
): Promise<{ code: number; stdout: string; stderr: string; bytes: Uint8Array }> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const io: CommandIo = { stdin: new MemorySource(stdin), stdout, stderr };
  const code = await command.run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text(), bytes: stdout.bytes() };
}

function sha1(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

async function expectedSha1(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const text = await Deno.readTextFile(`${VECTORS_DIR}expected-image-sha1.txt`);
  for (const line of text.split("\n")) {
    const match = /^(.*\S)\s+([0-9a-f]{40})$/.exec(line);
    if (match) map.set(match[1]!, match[2]!);
  }
  return map;
}

function pbsOf(name: string): number {
  return name === "w4-pbs4k" ? 4096 : 512;
}

/** Writes a formatted ldev image (super + zeroed lsid 0), as format-ldev would. */
async function makeLdev(path: string, pbs: number, sizeBytes = LDEV_BYTES): Promise<void> {
  const init = formatLdevSuper({
    ldevLb: BigInt(sizeBytes / 512),
    ddevLb: BigInt(DDEV_BYTES / 512),
    pbs,
    salt: 0x01020304,
    uuid: new Uint8Array(16).fill(0xaa),
    name: "vol0",
  });
  const image = new Uint8Array(sizeBytes);
  image.fill(0x5c, 4096 + pbs); // stale ring content
  image.set(buildSuperSector(init), 4096);
  const ringStart = (4096 / pbs + 2) * pbs;
  image.fill(0, ringStart, ringStart + pbs); // lsid 0
  await Deno.writeFile(path, image);
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ldev_tools_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function infoFields(text: string): Map<string, string> {
  return new Map(
    text.trimEnd().split("\n").map((line) => {
      const index = line.indexOf(": ");
      return [line.slice(0, index), line.slice(index + 2)] as [string, string];
    }),
  );
}

async function restore(ldev: string, name: string, args: string[] = []) {
  const wlog = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
  const result = await run(wlogRestore, [...args, ldev], wlog);
  assertEquals(result.code, 0, result.stderr);
  assert(
    result.stderr.startsWith("Warning: the log device does not seem to be block device.\n"),
    result.stderr,
  );
  return result;
}

for (const name of WLOGS) {
  Deno.test(`ldev tools: ${name}.wlog restored, shown, cat, dumped and redone`, async () => {
    await withDir(async (dir) => {
      const pbs = pbsOf(name);
      const ldev = `${dir}/ldev`;
      await makeLdev(ldev, pbs);
      const source = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
      const sourceShow = await run(wlogShow, [`${VECTORS_DIR}${name}.wlog`]);
      const first = /lsid (\d+) 18446744073709551615/.exec(sourceShow.stdout)![1]!;
      const end = /reallyEndLsid (\d+)/.exec(sourceShow.stdout)![1]!;

      const restored = await restore(ldev, name);
      assertEquals(
        restored.stdout,
        [
          `Try to restore lsid range [${first}, 18446744073709551615)`,
          `Restored lsid range [${first}, ${end}]`,
          `Wlog lsid range [${first}, ${end}]`,
          "Lsid diff start 0 end 0",
          "",
        ].join("\n"),
      );

      const info = await run(wldevInfo, [ldev]);
      assertEquals([info.code, info.stderr], [0, ""]);
      const fields = infoFields(info.stdout);
      const head = /salt ([0-9a-f]{8}) uuid ([0-9a-f]{32})/.exec(sourceShow.stdout)!;
      assertEquals([...fields.keys()], [
        "sectorType",
        "version",
        "checksum",
        "lbs",
        "pbs",
        "metadataSize",
        "salt",
        "name",
        "ringBufferSize",
        "oldestLsid",
        "writtenLsid",
        "deviceSize",
        "ringBufferOffset",
        "uuid",
      ]);
      assertEquals(fields.get("pbs"), String(pbs));
      assertEquals(fields.get("salt"), String(parseInt(head[1]!, 16)));
      assertEquals(fields.get("uuid"), head[2]);
      assertEquals(fields.get("name"), "vol0");
      assertEquals([fields.get("oldestLsid"), fields.get("writtenLsid")], [first, first]);
      assertEquals(fields.get("ringBufferOffset"), String(4096 / pbs + 2));

      const show = await run(wldevShow, [ldev]);
      assertEquals([show.code, show.stderr], [0, ""]);
      assertEquals(show.stdout, await Deno.readTextFile(`${VECTORS_DIR}${name}.wlog-show.txt`));
      const packStat = await run(wlogShow, ["-pack", "-stat", `${VECTORS_DIR}${name}.wlog`]);
      assertEquals((await run(wldevShow, ["-pack", "-stat", ldev])).stdout, packStat.stdout);

      const cat = await run(wlogCat, [ldev]);
      assertEquals([cat.code, cat.stderr], [0, ""]);
      assertEquals(cat.bytes, source);
      assertEquals((await run(wlogShow, ["-validate", "-none"], cat.bytes)).code, 0);

      const dumpPath = `${dir}/dump`;
      const b = BigInt(first) + 1n;
      const dump = await run(wldevDump, ["-o", dumpPath, ldev, String(b), String(b + 5n)]);
      assertEquals([dump.code, dump.stdout, dump.stderr], [0, "", ""]);
      assertEquals(await Deno.readFile(dumpPath), source.slice(4096 + pbs, 4096 + 6 * pbs));

      const ddev = `${dir}/ddev`;
      await Deno.writeFile(ddev, new Uint8Array(DDEV_BYTES));
      const redo = await run(wdevRedo, ["-z", ldev, ddev]);
      assertEquals([redo.code, redo.stderr], [0, ""]);
      assertEquals(redo.stdout.split("\n")[0], `Applied lsid range [${first}, ${end})`);
      const expected = await expectedSha1();
      assertEquals(sha1(await Deno.readFile(ddev)), expected.get(`zero+wlog-redo -z ${name}`));
      assertEquals(infoFields((await run(wldevInfo, [ldev])).stdout).get("writtenLsid"), end);
      const again = await run(wdevRedo, ["-z", ldev, ddev]);
      assertEquals(again.stdout.split("\n")[0], `Applied lsid range [${end}, ${end})`);
    });
  });
}

Deno.test("ldev tools: a log wrapping the ring end still cats and redoes right", async () => {
  await withDir(async (dir) => {
    const ldev = `${dir}/ldev`;
    const ringPb = 450; // w1 spans 399 pb: with diff 300 its second pack would cross the end
    await makeLdev(ldev, 512, (10 + ringPb) * 512);
    const restored = await restore(ldev, "w1", ["-d", "300", "-v"]);
    assert(restored.stdout.includes("Lsid map 0 to 300 (diff 300)\n"), restored.stdout);
    assert(restored.stdout.includes("Restored lsid range [300, 715]\n"), restored.stdout);
    assert(restored.stdout.includes("Lsid diff start 300 end 316\n"), restored.stdout);

    const cat = await run(wlogCat, ["-o", `${dir}/cat.wlog`, ldev]);
    assertEquals([cat.code, cat.stderr], [0, ""]);
    const show = await run(wlogShow, ["-validate", `${dir}/cat.wlog`]);
    assertEquals([show.code, show.stderr], [0, ""]);
    const lines = show.stdout.split("\n");
    assertEquals(lines.filter((l) => l.startsWith("wlog_p:")).length, 3);
    assert(show.stdout.includes("wlog_p: lsid        434 total   15 n_rec  1 n_pad  1"));
    assert(show.stdout.includes("normalLb 362\ndiscardLb 829\npaddingPb 50\n"), show.stdout);

    const ddev = `${dir}/ddev`;
    await Deno.writeFile(ddev, new Uint8Array(DDEV_BYTES));
    const redo = await run(wdevRedo, ["-z", ldev, ddev]);
    assertEquals([redo.code, redo.stdout.split("\n")[0]], [0, "Applied lsid range [300, 715)"]);
    const expected = await expectedSha1();
    assertEquals(sha1(await Deno.readFile(ddev)), expected.get("zero+wlog-redo -z w1"));
  });
});

Deno.test("ldev tools: wdev-redo shrinks the pack with a bad payload and rewrites it", async () => {
  await withDir(async (dir) => {
    const ldev = `${dir}/ldev`;
    await makeLdev(ldev, 512);
    await restore(ldev, "w1");
    // Corrupt record 3 of the second pack (lsid 134), a normal record at lsid 258.
    const show = await run(wldevShow, ["-pack", ldev]);
    const record = show.stdout.split("\n").filter((l) => l.startsWith("wlog_r: lsid"))[11]!;
    const lsid = Number(/lsid\s+(\d+)/.exec(record)![1]);
    const image = await Deno.readFile(ldev);
    image[(10 + lsid) * 512 + 3]! ^= 0xff;
    await Deno.writeFile(ldev, image);
    const ddev = `${dir}/ddev`;
    await Deno.writeFile(ddev, new Uint8Array(DDEV_BYTES));
    const redo = await run(wdevRedo, ["-z", "-v", ldev, ddev]);
    assertEquals(redo.code, 0, redo.stderr);
    assert(redo.stdout.includes("isShrinked: 1\n"), redo.stdout);
    const written = /writtenLsid: (\d+)\nlastPackHeader/.exec(redo.stdout)![1]!;
    assertEquals(written, "258");
    assertEquals(infoFields((await run(wldevInfo, [ldev])).stdout).get("writtenLsid"), written);
    const after = await run(wldevShow, ["-stat", "-f", "-b", "0", ldev]);
    assert(after.stdout.includes(`reallyEndLsid ${written}\n`), after.stdout);
  });
});

Deno.test("ldev tools: bad input gives one error line, exit 1 and writes nothing", async () => {
  await withDir(async (dir) => {
    const notWalb = `${dir}/not-walb`;
    await Deno.writeFile(notWalb, await Deno.readFile(`${VECTORS_DIR}w1.wlog`));
    const corrupt = `${dir}/corrupt`;
    await makeLdev(corrupt, 512);
    const image = await Deno.readFile(corrupt);
    image[4096 + 100]! ^= 1; // deviceSize: the super checksum no longer verifies
    await Deno.writeFile(corrupt, image);
    const ldev = `${dir}/ldev`;
    await makeLdev(ldev, 512);
    const ddev = `${dir}/ddev`;
    await Deno.writeFile(ddev, new Uint8Array(DDEV_BYTES));
    const w1 = await Deno.readFile(`${VECTORS_DIR}w1.wlog`);
    const paths = [notWalb, corrupt, ldev, ddev];
    const before = await Promise.all(paths.map(async (p) => sha1(await Deno.readFile(p))));

    const cases: [Command, string[], string][] = [];
    for (const bad of [notWalb, corrupt]) {
      cases.push(
        [wldevInfo, [bad], "wldev-info:super block is invalid."],
        [wldevShow, [bad], "wldev-show:super block is invalid."],
        [wlogCat, [bad], "wlog-cat:super block is invalid."],
        [wldevDump, [bad, "0", "1"], "wldev-dump:super block is invalid."],
        [wlogRestore, [bad], "wlog-restore:super block is invalid."],
        [wdevRedo, ["-z", bad, ddev], "wdev-redo:super block is invalid."],
      );
    }
    cases.push(
      [wldevDump, [ldev, "5", "5"], "wldev-dump:bgnLsid must be < endLsid."],
      [wlogCat, ["-b", "10", "-e", "5", ldev], "wlog-cat:bgnLsid must be < endLsid."],
      [wldevShow, ["-b", "10", "-e", "10", ldev], "wldev-show:bgnLsid must be < endLsid."],
      [wlogRestore, ["-b", "9", "-e", "9", ldev], "wlog-restore:bgnLsid must be < endLsid."],
      [wlogRestore, ["-d", "-1", ldev], "wlog-restore:lsid diff -1 moves begin lsid 0 out"],
      [wdevRedo, ["-d", "-z", ldev, ddev], "wdev-redo:Do not specify both -d and -z together."],
      [wdevRedo, ["-d", ldev, ddev], "wdev-redo:ioctl(BLKDISCARD) failed"],
    );
    for (const [command, args, message] of cases) {
      const result = await run(command, args, w1);
      const where = `${command.name} ${args.join(" ")}: ${result.stderr}`;
      assertEquals([result.code, result.stdout], [1, ""], where);
      const lines = result.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("Warning"));
      assertEquals(lines.length, 1, where);
      assert(lines[0]!.includes(` ERROR ${message}`), where);
    }
    const pbs4k = `${dir}/ldev4k`;
    await makeLdev(pbs4k, 4096);
    const mismatch = await run(wlogRestore, [pbs4k], w1);
    assertEquals(mismatch.code, 1);
    assert(mismatch.stderr.includes("Physical block size differs. super 4096 head 512"));
    const after = await Promise.all(paths.map(async (p) => sha1(await Deno.readFile(p))));
    assertEquals(after, before);
  });
});

const HELP: [Command, string][] = [
  [
    wlogCat,
    `wlog-cat: extract wlog from a walb log device.
usage:wlog-cat [opt] LOG_DEVICE_PATH
  -h : show this message.
  -o PATH: output wlog path. '-' for stdout. (default: '-')
  -b LSID: begin lsid to restore. (default: 0)
  -e LSID: end lsid to restore. (default: 0xffffffffffffffff)
  -noaio : do not use aio.
  -s : do not shrink logpack (ignoring log IO invalidness).
  -v : verbose output to stderr.
  -debug : debug print to stderr.
  -f : ignore oldest lsid in the superblock.
`,
  ],
  [
    wlogRestore,
    `Wlresotre: restore walb log to a log device.
usage:wlog-restore [opt] LOG_DEVICE_PATH < WLOG_FILE
  -h : show this message.
  -b LSID:  begin lsid to restore. (default: 0)
  -e LSID: end lsid to restore. (default: 0xffffffffffffffff)
  -d DIFF: lsid diff. (default: 0)
  -i LSID:invalidate lsid after restore. (default: no invalidation)
  -s SIZE: data device size for clipping. (default: no clipping)
  --verify : verify written logpack (default: no)
  -v : verbose messages to stderr.
  -debug : put debug logs.
`,
  ],
  [
    wldevInfo,
    `Wlinfo: show superblock information of a log device.
usage:wldev-info [opt] LOG_DEVICE_PATH
  -h : show this message.
  -v : verbose messages to stderr.
`,
  ],
  [
    wldevShow,
    `wldev-show: pretty-print walb log device.
usage:wldev-show [opt] WLDEV_PATH
  WLDEV_PATH : input walb log device  path.
  -h : show this message.
  -b LSID: begin lsid. (default: 0)
  -e LSID: end lsid. (default: 0xffffffffffffffff)
  -super : show super block.
  -head : show file header.
  -pack : show packs.
  -stat : show statistics.
  -noaio : do not use aio
  -f : ignore oldest lsid in the super block.
  -search : search IOs with a specified address.
  -addr ADDRESS: address to search [logical block].
  -iosize SIZE: io size to search [logical block].
  -debug : put debug messages to stderr.
`,
  ],
  [
    wldevDump,
    `wldev-dump: dump lsid range from a walb log device.
usage:wldev-dump [opt] LOG_DEVICE_PATH BEGIN_LSID END_LSID
  -h : show this message.
  -o PATH: output dump file path. '-' for stdout. (default: '-')
  -noaio : do not use aio.
  -debug : debug print to stderr.
`,
  ],
  [
    wdevRedo,
    `Redo logs from ldev on ddev.
Walb device will redo automatically.
This is just for test.

usage:wdev-redo [opt] LDEV_PATH DDEV_PATH
  -h : show this message.
  -d : issue discard for discard logs.
  -z : zero-clear for discard logs.
  -noaio : do not use aio
  -v : verbose messages to stderr.
  -debug : put debug messages to stderr.
`,
  ],
];

/** The help without the `--progress` extension line (cmd/progress_test.ts checks it). */
const withoutProgress = (help: string) => help.replace(/^ {2}--progress .*\n/m, "");

for (const [command, text] of HELP) {
  Deno.test(`${command.name} -h prints the original usage text`, async () => {
    const result = await run(command, ["-h"]);
    assertEquals([result.code, withoutProgress(result.stdout), result.stderr], [0, text, ""]);
    const bad = await run(command, ["-nosuch"]);
    assertEquals([bad.code, withoutProgress(bad.stdout)], [1, `OptionError:bad opt\n${text}`]);
  });
}

Deno.test("wldev-show -search prints only the packs touching the address", async () => {
  await withDir(async (dir) => {
    const ldev = `${dir}/ldev`;
    await makeLdev(ldev, 512);
    await restore(ldev, "w1");
    const result = await run(wldevShow, ["-pack", "-stat", "-search", "-addr", "1583", ldev]);
    assertEquals(result.code, 0);
    const packs = result.stdout.split("\n").filter((l) => l.startsWith("wlog_p:"));
    assertEquals(packs, ["wlog_p: lsid        134 total  264 n_rec 11 n_pad  1 csum 2251e49f"]);
    assert(result.stdout.endsWith("nrPacks 2\nnormalLb 362\ndiscardLb 829\npaddingPb 35\n"));
    const none = await run(wldevShow, ["-pack", "-search", "-addr", "3000", "-iosize", "5", ldev]);
    assertEquals(none.stdout.split("\n").filter((l) => l.startsWith("wlog_p:")), []);
  });
});

// Loop devices: root and losetup only; every device is detached in a finally.

async function losetup(args: string[]): Promise<string> {
  const output = await new Deno.Command("losetup", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`losetup ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout).trim();
}

async function loopSkipReason(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  try {
    await new Deno.Command("losetup", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    await Deno.stat("/dev/loop-control");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "losetup or /dev/loop-control is missing";
    throw error;
  }
  return undefined;
}

const LOOP_SKIP = await loopSkipReason();

async function withLoop(
  backing: string,
  body: (loopPath: string) => Promise<void>,
): Promise<void> {
  const loopPath = await losetup(["--find", "--show", backing]);
  try {
    await body(loopPath);
  } finally {
    await losetup(["--detach", loopPath]);
  }
}

Deno.test({
  name: `ldev tools on loop devices: wldev-info, wlog-cat, wdev-redo${
    LOOP_SKIP ? ` (skipped: ${LOOP_SKIP})` : ""
  }`,
  ignore: LOOP_SKIP !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "ldev_tools_loop_" });
    try {
      const ldevFile = `${dir}/ldev`;
      await makeLdev(ldevFile, 512);
      await restore(ldevFile, "w1");
      const ddevFile = `${dir}/ddev`;
      await Deno.writeFile(ddevFile, new Uint8Array(DDEV_BYTES));
      await withLoop(ldevFile, async (ldev) => {
        await withLoop(ddevFile, async (ddev) => {
          const info = await run(wldevInfo, [ldev]);
          assertEquals([info.code, info.stderr], [0, ""]);
          assertEquals(infoFields(info.stdout).get("uuid"), "eb8047ff25f4c16a4814bcee8c2f67b8");
          const cat = await run(wlogCat, [ldev]);
          assertEquals([cat.code, cat.stderr], [0, ""]);
          assertEquals(cat.bytes, await Deno.readFile(`${VECTORS_DIR}w1.wlog`));
          const redo = await run(wdevRedo, ["-z", ldev, ddev]);
          assertEquals([redo.code, redo.stderr], [0, ""]);
          assertEquals(infoFields((await run(wldevInfo, [ldev])).stdout).get("writtenLsid"), "399");
        });
      });
      const expected = await expectedSha1();
      assertEquals(sha1(await Deno.readFile(ddevFile)), expected.get("zero+wlog-redo -z w1"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `wlog-redo -d issues BLKDISCARD on a loop device${
    LOOP_SKIP ? ` (skipped: ${LOOP_SKIP})` : ""
  }`,
  ignore: LOOP_SKIP !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "ldev_tools_loop_" });
    try {
      const image = `${dir}/image`;
      const base = await Deno.readFile(`${VECTORS_DIR}base-2M.img`);
      await Deno.writeFile(image, base);
      await withLoop(image, async (loopPath) => {
        const result = await run(wlogRedo, ["-d", "-i", `${VECTORS_DIR}w1.wlog`, loopPath]);
        assertEquals([result.code, result.stderr], [0, ""]);
        const lines = result.stdout.split("\n");
        assertEquals(lines[2], "discard:        829 LB");
        assertEquals(lines[7], "discard:              7 (        829 LB)");
      });
      const after = await Deno.readFile(image);
      // A loop device over a file punches holes for BLKDISCARD: the discarded ranges read as
      // zeros, so the image equals the one `-z` gives.
      const zeroRedo = `${dir}/zero-redo`;
      await Deno.writeFile(zeroRedo, base);
      assertEquals((await run(wlogRedo, ["-z", "-i", `${VECTORS_DIR}w1.wlog`, zeroRedo])).code, 0);
      assertEquals(sha1(after), sha1(await Deno.readFile(zeroRedo)));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
