/**
 * write_random_data: write random (or constant) data to an existing target in random-sized
 * IOs and print the IO recipe `{offset} {size} {checksum:08x}` (offline-tools.md §6.3).
 *
 * Fix of the original: the default `-s 0` writes from `-o` to the end of the target
 * (the original wrote nothing although its help says "device size").
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { checksum } from "../lib/format/checksum/checksum.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

const parser = new OptionParser("write_random_data", {
  description: "write_random_data: generate random data and write them.",
});
parser.param("[DEVICE|FILE]", "string", "");
parser.option("b", "u32", "SIZE: block size [byte]. (default: 512)", { default: "512" });
parser.option("o", "u64", "OFFSET: start offset [block]. (default: 0)", { default: "0" });
parser.option("s", "u64", "SIZE: written size [block]. (default: device size)", { default: "0" });
parser.option("n", "u32", "SIZE: minimum IO size [block]. (default: 1)", { default: "1" });
parser.option("x", "u32", "SIZE: maximum IO size [block]. (default: 64)", { default: "64" });
parser.option("set", "i64", ": fill 8bit data(default:none)");
parser.option("q", "u32", ": aio queue size (default: 128)", { default: "128" });
parser.flag("v", ": verbose messages to stderr.");

/** The usage text printed by `-h`. */
export const HELP = parser.usage();

/** crypto.getRandomValues fills at most this many bytes per call. */
const RANDOM_CHUNK_SIZE = 65536;

function fillRandom(buffer: Uint8Array): void {
  for (let offset = 0; offset < buffer.length; offset += RANDOM_CHUNK_SIZE) {
    crypto.getRandomValues(buffer.subarray(offset, offset + RANDOM_CHUNK_SIZE));
  }
}

/** A uniform integer in [min, max), or min when they are equal. */
function randomSize(min: number, max: number): number {
  return min === max ? min : min + Math.floor(Math.random() * (max - min));
}

/** The write_random_data subcommand. */
export const command: Command = {
  name: "write_random_data",
  summary: "write random data to a target and print the IO recipe (tests)",
  run: (args, io) =>
    runTool("write_random_data", io, async ({ out }) => {
      const opts = parser.parse(args);
      const blockSize = opts.num("b");
      const minIoBlocks = opts.num("n");
      const maxIoBlocks = opts.num("x");
      if (blockSize === 0) throw new UsageError("blockSize must be non-zero.");
      if (minIoBlocks === 0) throw new UsageError("minIoSize must be > 0.");
      if (maxIoBlocks === 0) throw new UsageError("maxIoSize must be > 0.");
      if (minIoBlocks > maxIoBlocks) throw new UsageError("minIoSize must be <= maxIoSize.");
      if (opts.num("q") === 0) throw new UsageError("queueSize must be non-zero.");
      const fill = opts.isSet("set") ? Number(BigInt.asUintN(8, opts.big("set"))) : undefined;

      using file = await Deno.open(opts.str("[DEVICE|FILE]"), { read: true, write: true });
      const targetSize = await file.seek(0, Deno.SeekMode.End);
      if (targetSize === 0) throw new UsageError("device or file size is 0.");
      const targetBlocks = Math.floor(targetSize / blockSize);
      const offset = opts.num("o");
      const sizeBlocks = opts.num("s");
      // -s 0 means the whole target from -o on (fixed); an explicit -s is not clipped, as
      // in the original.
      const count = sizeBlocks === 0
        ? Math.max(0, targetBlocks - offset)
        : Math.min(sizeBlocks, targetBlocks);
      const buffer = new Uint8Array(maxIoBlocks * blockSize);
      let done = 0;
      while (done < count) {
        const rest = count - done;
        const ioBlocks = randomSize(Math.min(minIoBlocks, rest), Math.min(maxIoBlocks, rest));
        const data = buffer.subarray(0, ioBlocks * blockSize);
        if (fill === undefined) fillRandom(data);
        else data.fill(fill);
        const position = offset + done;
        await file.seek(position * blockSize, Deno.SeekMode.Start);
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        out.line(`${position} ${ioBlocks} ${checksum(data, 0).toString(16).padStart(8, "0")}`);
        done += ioBlocks;
      }
      await file.syncData();
      return 0;
    }),
};
