/**
 * AC-43 (scenarios.md §6): log and diff conversion correctness, on files, through the
 * subcommands (run in-process: the same `command.run` the binary calls).
 *
 * Fixture: a 32 MiB random image; four random wlogs (32 MiB device, 32 MiB of logs each,
 * discards 512 B–1 MiB), each converted to a sorted and an indexed wdiff.
 */
import { assertEquals } from "../../lib/testing/assert.ts";
import { sha1File as sha1 } from "../../lib/testing/files.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { walbInProcess as walb } from "../cli/run_walb.ts";

const MiB = 1 << 20;
const DEVICE_BYTES = 32 * MiB;
const LOG_BYTES = Number(Deno.env.get("AC43_LOG_MIB") ?? "32") * MiB;

async function zeroImage(path: string): Promise<string> {
  await Deno.writeFile(path, new Uint8Array());
  await Deno.truncate(path, DEVICE_BYTES);
  return path;
}

Deno.test("AC-43 wlog and wdiff conversion, redo, merge, full image", async (t) => {
  const prng = seededPrng("AC-43");
  const dir = await Deno.makeTempDir({ prefix: "walb-ac43-" });
  const at = (name: string) => `${dir}/${name}`;
  try {
    // Fixture.
    const base = at("base.img");
    {
      const file = await Deno.open(base, { write: true, create: true, truncate: true });
      for (let offset = 0; offset < DEVICE_BYTES; offset += MiB) await file.write(prng.bytes(MiB));
      file.close();
    }
    const wlogs: string[] = [];
    for (let k = 1; k <= 4; k++) {
      const wlog = at(`w${k}.wlog`);
      await walb("wlog-gen", [
        "-s",
        String(DEVICE_BYTES),
        "-z",
        String(LOG_BYTES),
        "--minDiscardSize",
        "512",
        "--maxDiscardSize",
        "1M",
        "--rand",
        "--seed",
        String(prng.u32()),
        "-o",
        wlog,
      ]);
      wlogs.push(wlog);
    }
    const sorted = wlogs.map((w) => w.replace(".wlog", ".sorted.wdiff"));
    const indexed = wlogs.map((w) => w.replace(".wlog", ".indexed.wdiff"));
    for (let k = 0; k < 4; k++) {
      await walb("wlog-to-wdiff", ["-i", wlogs[k]!, "-o", sorted[k]!]);
      await walb("wlog-to-wdiff", ["-indexed", "-i", wlogs[k]!, "-o", indexed[k]!]);
    }
    // The reference: base with the four wlogs applied in sequence.
    const expected = at("expected.img");
    await Deno.copyFile(base, expected);
    for (const wlog of wlogs) await walb("wlog-redo", ["-z", "-i", wlog, expected]);
    const expectedSha1 = await sha1(expected);

    await t.step("(a) each wlog redone onto zero equals each wdiff form redone", async () => {
      for (let k = 0; k < 4; k++) {
        const byWlog = await zeroImage(at(`a-wlog-${k}.img`));
        await walb("wlog-redo", ["-z", "-i", wlogs[k]!, byWlog]);
        for (const wdiff of [sorted[k]!, indexed[k]!]) {
          const byDiff = await zeroImage(at(`a-diff-${k}.img`));
          await walb("wdiff-redo", ["-z", "-i", wdiff, byDiff]);
          assertEquals(await sha1(byDiff), await sha1(byWlog), `${wdiff} vs ${wlogs[k]}`);
        }
      }
    });

    await t.step(
      "(b) a full-image wdiff of the base, both forms, redone onto zero is the base",
      async () => {
        const baseSha1 = await sha1(base);
        for (const form of [[], ["-indexed"]]) {
          const full = at("full.wdiff");
          await walb("wdiff-full", [...form, "-i", base, "-o", full]);
          const image = await zeroImage(at("b.img"));
          await walb("wdiff-redo", ["-z", "-i", full, image]);
          assertEquals(await sha1(image), baseSha1, `wdiff-full ${form.join(" ")}`);
        }
      },
    );

    await t.step(
      "(c) merging the four wdiffs (-x 16K) then redo equals the four wlogs",
      async () => {
        for (const inputs of [sorted, indexed]) {
          const merged = at("merged.wdiff");
          await walb("wdiff-merge", ["-x", "16K", "-i", ...inputs, "-o", merged]);
          const image = at("c.img");
          await Deno.copyFile(base, image);
          await walb("wdiff-redo", ["-z", "-i", merged, image]);
          assertEquals(await sha1(image), expectedSha1, `merge of ${inputs[0]} …`);
        }
      },
    );

    await t.step("(d) virt-full-cat of base + four wdiffs equals the applied image", async () => {
      for (const inputs of [sorted, indexed]) {
        const image = at("d.img");
        await walb("virt-full-cat", ["-i", base, "-d", ...inputs, "-o", image]);
        assertEquals(await sha1(image), expectedSha1, `virt-full-cat of ${inputs[0]} …`);
      }
    });

    await t.step("(e) max IO size splitting (4K and 16K) gives the same image", async () => {
      for (const maxIo of ["4K", "16K"]) {
        for (const form of [[], ["-indexed"]]) {
          const image = at("e.img");
          await Deno.copyFile(base, image);
          for (const wlog of wlogs) {
            const wdiff = at("e.wdiff");
            await walb("wlog-to-wdiff", [...form, "-x", maxIo, "-i", wlog, "-o", wdiff]);
            await walb("wdiff-redo", ["-z", "-i", wdiff, image]);
          }
          assertEquals(await sha1(image), expectedSha1, `-x ${maxIo} ${form.join(" ")}`);
        }
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
