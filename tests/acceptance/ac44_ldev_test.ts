/**
 * AC-44 (scenarios.md §6): log device format, restore, extract and redo, on files through the
 * subcommands (run in-process, as the binary runs them). Fixture: a 128 MiB ldev and a
 * 64 MiB ddev formatted with `wdevc format-ldev`; one wlog (64 MiB device, 32 MiB of logs,
 * IOs 512 B–1 MiB, discards 1–64 MiB, packs ≤ 4 MiB). The block-device (loop) paths of the
 * case are covered by tests/integration/device_loop_test.ts and tests/vectors/ldev_tools_test.ts.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { sha1File as sha1 } from "../../lib/testing/files.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { walbInProcess as walb } from "../cli/run_walb.ts";

const MiB = 1 << 20;
const LOG_MIB = Number(Deno.env.get("AC44_LOG_MIB") ?? "32");

async function sparse(path: string, size: number): Promise<string> {
  await Deno.writeFile(path, new Uint8Array());
  await Deno.truncate(path, size);
  return path;
}

/** `wlog-show -stat` figures of a wlog file. */
async function stats(path: string): Promise<Map<string, bigint>> {
  const text = await walb("wlog-show", ["-stat", path]);
  const map = new Map<string, bigint>();
  for (const line of text.trim().split("\n")) {
    const [key, value] = line.split(" ");
    if (key !== undefined && value !== undefined) map.set(key, BigInt(value));
  }
  return map;
}

Deno.test("AC-44 log device format, restore, extract and redo", async (t) => {
  const prng = seededPrng("AC-44");
  const dir = await Deno.makeTempDir({ prefix: "walb-ac44-" });
  const at = (name: string) => `${dir}/${name}`;
  try {
    const ldev = await sparse(at("ldev"), 128 * MiB);
    const ddev = await sparse(at("ddev"), 64 * MiB);
    const formatted = await walb("wdevc", ["format-ldev", ldev, ddev, "-n", "ac44"]);
    const ringMatch = /^ringBufferSize: (\d+)$/m.exec(formatted);
    assert(ringMatch, formatted);
    const ring = BigInt(ringMatch[1]!);
    const wlog = at("source.wlog");
    await walb("wlog-gen", [
      "-s",
      "64M",
      "-z",
      `${LOG_MIB}M`,
      "--minIoSize",
      "512",
      "--maxIoSize",
      "1M",
      "--minDiscardSize",
      "1M",
      "--maxDiscardSize",
      "64M",
      "--maxPackSize",
      "4M",
      "--seed",
      String(prng.u32()),
      "-o",
      wlog,
    ]);
    const wlogBytes = await Deno.readFile(wlog);
    const source = await stats(wlog);
    // The reference images: redo with and without discard-as-zero onto the initial ddev.
    const expectedZ = at("expected-z.img");
    await Deno.copyFile(ddev, expectedZ);
    await walb("wlog-redo", ["-z", "-i", wlog, expectedZ]);
    const expectedPlain = at("expected.img");
    await Deno.copyFile(ddev, expectedPlain);
    await walb("wlog-redo", ["-i", wlog, expectedPlain]);
    const expectedZSha1 = await sha1(expectedZ);
    assert(expectedZSha1 !== (await sha1(expectedPlain)), "the wlog has discards over data");

    await t.step("(a) restore (verifying) then extract gives the same wlog and packs", async () => {
      await walb("wlog-restore", ["--verify", ldev], wlogBytes);
      const extracted = at("a.wlog");
      await walb("wlog-cat", ["-o", extracted, ldev]);
      assertEquals(await sha1(extracted), await sha1(wlog));
      const fromFile = await walb("wlog-show", ["-pack", wlog]);
      const fromLdev = await walb("wldev-show", ["-pack", ldev]);
      assertEquals(fromLdev, fromFile);
    });

    for (const shift of [ring - 1n, ring - 2n, ring - 1024n]) {
      await t.step(
        `(b) restore shifted by ${shift} (ring wrap), extract, redo from the file and with wdev-redo`,
        async () => {
          await walb("wdevc", ["format-ldev", ldev, ddev, "-n", "ac44"]);
          await walb("wlog-restore", ["--verify", "-d", String(shift), ldev], wlogBytes);
          const extracted = at("b.wlog");
          await walb("wlog-cat", ["-o", extracted, ldev]);
          const got = await stats(extracted);
          assertEquals(got.get("bgnLsid"), source.get("bgnLsid")! + shift);
          // Padding-only packs inserted at the ring end add their header and padding blocks.
          assert(
            got.get("reallyEndLsid")! - got.get("bgnLsid")! >=
              source.get("reallyEndLsid")! - source.get("bgnLsid")!,
          );
          assertEquals(got.get("normalLb"), source.get("normalLb"));
          assertEquals(got.get("discardLb"), source.get("discardLb"));
          const byFile = await Deno.copyFile(ddev, at("b-file.img")).then(() => at("b-file.img"));
          await walb("wlog-redo", ["-z", "-i", extracted, byFile]);
          assertEquals(await sha1(byFile), expectedZSha1, "redo of the extracted wlog");
          const byDevice = await Deno.copyFile(ddev, at("b-dev.img")).then(() => at("b-dev.img"));
          await walb("wdev-redo", ["-z", ldev, byDevice]);
          assertEquals(await sha1(byDevice), expectedZSha1, "wdev-redo of the ldev");
        },
      );
    }

    // Pack boundaries of the source: an invalidated header stops extraction exactly there. An
    // lsid inside a pack's data stops it at the damaged record, unless that block held padding
    // or all-zero data (zeroing changes nothing), so only the redo agreement is checked then.
    const packLsids = [...(await walb("wlog-show", ["-pack", wlog])).matchAll(
      /^wlog_p: lsid +(\d+)/gm,
    )].map((match) => BigInt(match[1]!));
    const boundaryAtOrAfter = (lsid: bigint) => packLsids.find((pack) => pack >= lsid)!;
    const cases: [bigint, boolean][] = [
      [boundaryAtOrAfter(1024n), true],
      [boundaryAtOrAfter(8192n), true],
      [1024n, false],
      [8192n, false],
    ];
    for (const [invalid, isBoundary] of cases) {
      const where = isBoundary ? "a pack header" : "any block";
      await t.step(
        `(c) an invalid lsid at ${invalid} (${where}) stops extraction; every redo agrees`,
        async () => {
          await walb("wdevc", ["format-ldev", ldev, ddev, "-n", "ac44"]);
          await walb("wlog-restore", ["-i", String(invalid), ldev], wlogBytes);
          const extracted = at("c.wlog");
          await walb("wlog-cat", ["-o", extracted, ldev]);
          const got = await stats(extracted);
          if (isBoundary) {
            assertEquals(got.get("reallyEndLsid"), invalid, "extraction stops there");
          } else {
            assert(got.get("reallyEndLsid")! <= source.get("reallyEndLsid")!);
          }
          const byFile = await Deno.copyFile(ddev, at("c-file.img")).then(() => at("c-file.img"));
          await walb("wlog-redo", ["-z", "-i", extracted, byFile]);
          const byDevice = await Deno.copyFile(ddev, at("c-dev.img")).then(() => at("c-dev.img"));
          await walb("wdev-redo", ["-z", ldev, byDevice]);
          assertEquals(await sha1(byDevice), await sha1(byFile));
          if (isBoundary) {
            assert((await sha1(byFile)) !== expectedZSha1, "only a prefix was applied");
          }
        },
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
