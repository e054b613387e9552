/**
 * verify_written_data: check a target against a write_random_data recipe
 * (offline-tools.md §6.4). Prints `{OK|NG} {offset} {size} {recipe csum} {actual csum}` per line.
 *
 * Fix of the original: the exit status is 1 when any line is NG (the original exits 0).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { checksum } from "../lib/format/checksum/checksum.ts";
import type { ByteSource } from "../lib/io/stream.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

const parser = new OptionParser("verify_written_data", {
  description: "verify_written_data: verify data written by write_random_data.",
});
parser.param("DEVICE|FILE", "string", "");
parser.option("b", "u32", "SIZE: block size [byte]. (default: 512)", { default: "512" });
parser.option("r", "string", "PATH: recipe file path. '-' for stdin. (default: '-')", {
  default: "-",
});
parser.flag("debug", ": put debug messages to stderr.");

/** The usage text printed by `-h`. */
export const HELP = parser.usage();

async function readAll(source: ByteSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(1 << 16);
  for (;;) {
    const n = await source.read(buffer);
    if (n === null || n === 0) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** One recipe line: offset and size in blocks, checksum. */
interface RecipeLine {
  offset: number;
  size: number;
  checksum: number;
}

function parseRecipe(text: string): RecipeLine[] {
  const lines: RecipeLine[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const match = /^\s*(\d+)\s+(\d+)\s+([0-9a-fA-F]{1,8})\s*$/.exec(line);
    if (match === null) throw new UsageError(`bad recipe line ${index + 1}: ${line}`);
    lines.push({
      offset: Number(match[1]),
      size: Number(match[2]),
      checksum: parseInt(match[3]!, 16),
    });
  }
  return lines;
}

const hex8 = (value: number) => value.toString(16).padStart(8, "0");

/** The verify_written_data subcommand. */
export const command: Command = {
  name: "verify_written_data",
  summary: "check a target against a write_random_data recipe",
  run: (args, io) =>
    runTool("verify_written_data", io, async ({ log, out }) => {
      const opts = parser.parse(args);
      log.debugEnabled = opts.bool("debug");
      const blockSize = opts.num("b");
      if (blockSize === 0) throw new UsageError("blockSize must be non-zero.");
      const recipePath = opts.str("r");
      const recipeBytes = recipePath === "-"
        ? await readAll(io.stdin)
        : await Deno.readFile(recipePath);
      const recipe = parseRecipe(new TextDecoder().decode(recipeBytes));
      using file = await Deno.open(opts.str("DEVICE|FILE"), { read: true });
      let failures = 0;
      for (const line of recipe) {
        const data = new Uint8Array(line.size * blockSize);
        await file.seek(line.offset * blockSize, Deno.SeekMode.Start);
        let filled = 0;
        while (filled < data.length) {
          const n = await file.read(data.subarray(filled));
          if (n === null || n === 0) break;
          filled += n;
        }
        const actual = checksum(data, 0);
        const ok = actual === line.checksum;
        if (!ok) failures++;
        out.line(
          `${ok ? "OK" : "NG"} ${line.offset} ${line.size} ${hex8(line.checksum)} ${hex8(actual)}`,
        );
      }
      log.debug(`${recipe.length} lines, ${failures} NG`);
      return failures === 0 ? 0 : 1;
    }),
};
