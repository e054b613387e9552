/**
 * `walb wlog-gen`: generate a random valid wlog (offline-tools.md §3.1). Extension:
 * `--seed N` seeds the generator (std::mt19937 semantics), so `--seed 1 -s 2M -z 128K
 * --maxDiscardSize 128K --rand` reproduces shared/vectors/w1.wlog byte for byte.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedWriter, type ByteSink } from "../lib/io/stream.ts";
import { formatWlogHeader, isValidPbs, WlogWriter } from "../lib/format/wlog/mod.ts";
import {
  generatePack,
  generateWlogHeader,
  type WlogGenParams,
} from "../lib/format/wlog/generator.ts";
import { Mt19937 } from "../lib/format/wlog/mt19937.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { addProgressOption, countingSink, PROGRESS_OPTION, startProgress } from "./progress.ts";

const LB = 512n;
const NORMAL_IO_LB_MAX = 65535n;

function parser(): OptionParser {
  const p = new OptionParser("wlog-gen", { description: "Wlog-gen: generate walb log randomly." });
  p.option("s", "u64", "SIZE: device size [byte]. (default: 16M)", { default: "16M" });
  p.option("-minIoSize", "u32", "SIZE: minimum IO size [byte]. (default: 512)", {
    default: "512",
  });
  p.option("-maxIoSize", "u32", "SIZE: maximum IO size [byte]. (default: 32K)", {
    default: "32K",
  });
  p.option("-minDiscardSize", "u64", "SIZE: minimum discard size [byte]. (default: 512)", {
    default: "512",
  });
  p.option("-maxDiscardSize", "u64", "SIZE: maximum discard size [byte]. (default: 64M)", {
    default: "64M",
  });
  p.option("b", "u32", "SIZE: physical block size [byte]. (default: 512)", { default: "512" });
  p.option("-maxPackSize", "u32", "SIZE: maximum logpack size [byte]. (default: 16M)", {
    default: "16M",
  });
  p.option("z", "u64", "SIZE: total log size to generate [byte]. (default: 1M)", {
    default: "1M",
  });
  p.option("-lsid", "u64", "LSID: lsid of the first log. (default: 0)", { default: "0" });
  p.flag("-nopadding", "no padding. (default: randomly inserted)");
  p.flag("-nodiscard", "no discard. (default: randomly inserted)");
  p.flag("-noallzero", "no all-zero. (default: randomly inserted)");
  p.flag("-rand", "use random IO data instead of almost zero");
  p.option("o", "string", "PATH: output file path or '-' for stdout.", { default: "-" });
  p.flag("v", ": verbose messages to stderr.");
  p.option("-seed", "u32", "N: random seed (std::mt19937). (default: random)");
  p.flag(
    "-original-sizes",
    ": draw sizes as walb-tools 1.0.19 (never the maximum; with --seed, its exact output).",
  );
  return addProgressOption(p);
}

interface Plan {
  params: WlogGenParams;
  outPb: number;
  beginLsid: bigint;
}

function plan(opts: ReturnType<OptionParser["parse"]>): Plan {
  const devLb = opts.big("s") / LB;
  if (devLb < 1n) throw new UsageError("device size must be at least 512 bytes.");
  const pbs = opts.num("b");
  if (!isValidPbs(pbs)) throw new UsageError("pbs invalid.");
  const minIoLb = BigInt(opts.num("-minIoSize")) / LB;
  const maxIoLb = BigInt(opts.num("-maxIoSize")) / LB;
  if (minIoLb > NORMAL_IO_LB_MAX) throw new UsageError("minIoSize must be less than 32MiB.");
  if (maxIoLb > NORMAL_IO_LB_MAX) throw new UsageError("maxIoSize must be less than 32MiB.");
  if (minIoLb > maxIoLb) throw new UsageError("minIoSize must be <= maxIoSize.");
  if (minIoLb < 1n) throw new UsageError("minIoSize must be >= 512.");
  // Sizes in lb are truncated to 32 bits, as the original does.
  const minDiscardLb = Number((opts.big("-minDiscardSize") / LB) & 0xffffffffn);
  const maxDiscardLb = Number((opts.big("-maxDiscardSize") / LB) & 0xffffffffn);
  if (minDiscardLb > maxDiscardLb) {
    throw new UsageError("minDiscardSize must be <= maxDiscardSize.");
  }
  if (minDiscardLb < 1) throw new UsageError("minDiscardSize must be >= 512.");
  const outPb = Number((opts.big("z") / BigInt(pbs)) & 0xffffffffn);
  const beginLsid = opts.big("-lsid");
  if (beginLsid + BigInt(outPb) > (1n << 64n) - 1n) throw new UsageError("lsid will overflow.");
  return {
    params: {
      devLb,
      pbs,
      minIoLb: Number(minIoLb),
      maxIoLb: Number(maxIoLb),
      minDiscardLb,
      maxDiscardLb,
      maxPackPb: Math.floor(opts.num("-maxPackSize") / pbs),
      padding: !opts.bool("-nopadding"),
      discard: !opts.bool("-nodiscard"),
      allZero: !opts.bool("-noallzero"),
      randomData: opts.bool("-rand"),
      originalSizes: opts.bool("-original-sizes"),
    },
    outPb,
    beginLsid,
  };
}

/** `wlog-gen` */
export const command: Command = {
  name: "wlog-gen",
  summary: "generate a random wlog (tests)",
  run: (args, io) =>
    runTool("wlog-gen", io, async ({ log }) => {
      const opts = parser().parse(args);
      const { params, outPb, beginLsid } = plan(opts);
      const verbose = opts.bool("v");
      const seed = opts.isSet("-seed")
        ? opts.num("-seed")
        : crypto.getRandomValues(new Uint32Array(1))[0]!;
      const random = new Mt19937(seed);
      const path = opts.str("o");
      using file = path === "-" ? undefined : await Deno.open(path, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o644,
      });
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
        totalBytes: (outPb + 1) * params.pbs,
      });
      const sink: ByteSink = countingSink(file ?? io.stdout, progress);
      const writer = new WlogWriter(new BufferedWriter(sink));
      const header = await writer.writeHeader(
        generateWlogHeader(random, { pbs: params.pbs, beginLsid }),
      );
      if (verbose) log.raw(formatWlogHeader(header) + "\n");
      let writtenPb = 0;
      let packCount = 0;
      while (writtenPb < outPb) {
        const pack = generatePack(random, writer.endLsid, header.salt, params);
        await writer.writePack(pack);
        writtenPb += 1 + pack.header.totalIoSize;
        packCount++;
        if (verbose) log.raw(packCount % 80 === 79 ? ".\n" : ".");
      }
      await writer.close();
      progress.finish();
      if (verbose) log.raw(`\nnPack: ${packCount}\nwritten ${writtenPb} physical blocks\n`);
      return 0;
    }),
};
