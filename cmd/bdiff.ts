/**
 * bdiff: compare two files block by block (offline-tools.md §6.1). Prints
 * `{differing}/{compared} differs`; exit status 1 if any block differs, else 0.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { type Command, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";

const parser = new OptionParser("bdiff", { description: "bdiff: Show block diff." });
parser.param("FILE1", "string", "");
parser.param("FILE2", "string", "");
parser.option("b", "u32", "SIZE: block size in bytes (default: 512)", { default: "512" });
parser.flag("v", ": verbose messages to stderr.");
parser.option("l", "u32", ": line size in printing different block contents.", { default: "32" });
parser.flag("d", ": show diff for different contents.");

/** The usage text printed by `-h`. */
export const HELP = parser.usage();

/** Bytes read from each file at a time (a multiple of the block size is used). */
const CHUNK_SIZE = 1 << 20;

/** Reads until `buffer` is full or EOF; returns the byte count. */
async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null || n === 0) break;
    filled += n;
  }
  return filled;
}

function printHex(out: TextOut, block: Uint8Array, lineSize: number): void {
  let line = "";
  for (let i = 0; i < block.length; i++) {
    line += block[i]!.toString(16).padStart(2, "0");
    if ((i + 1) % lineSize === 0 || i + 1 === block.length) {
      out.line(line);
      line = "";
    }
  }
}

function printDiffMap(out: TextOut, a: Uint8Array, b: Uint8Array, lineSize: number): void {
  let line = "";
  for (let i = 0; i < a.length; i++) {
    line += a[i] === b[i] ? "_" : "X";
    if ((i + 1) % lineSize === 0 || i + 1 === a.length) {
      out.line(line);
      line = "";
    }
  }
}

function blocksEqual(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bdiff subcommand. */
export const command: Command = {
  name: "bdiff",
  summary: "compare two files block by block",
  run: (args, io) =>
    runTool("bdiff", io, async ({ out }) => {
      const opts = parser.parse(args);
      const blockSize = opts.num("b");
      if (blockSize === 0) throw new UsageError("blockSize must be > 0.");
      // Bytes per printed line, rounded down to even; 0 prints a block on one line.
      const lineSize = (opts.num("l") & ~1) || blockSize;
      const verbose = opts.bool("v");
      const showMap = opts.bool("d");
      using file1 = await Deno.open(opts.str("FILE1"), { read: true });
      using file2 = await Deno.open(opts.str("FILE2"), { read: true });
      const chunkSize = Math.max(1, Math.floor(CHUNK_SIZE / blockSize)) * blockSize;
      const buffer1 = new Uint8Array(chunkSize);
      const buffer2 = new Uint8Array(chunkSize);
      let compared = 0;
      let differing = 0;
      for (;;) {
        const [n1, n2] = await Promise.all([readFull(file1, buffer1), readFull(file2, buffer2)]);
        const blocks = Math.floor(Math.min(n1, n2) / blockSize);
        for (let i = 0; i < blocks; i++) {
          const a = buffer1.subarray(i * blockSize, (i + 1) * blockSize);
          const b = buffer2.subarray(i * blockSize, (i + 1) * blockSize);
          if (!blocksEqual(a, b)) {
            if (verbose) {
              out.line(`block ${compared + i} differ`);
              printHex(out, a, lineSize);
              out.line("---");
              printHex(out, b, lineSize);
            }
            if (showMap) printDiffMap(out, a, b, lineSize);
            differing++;
          }
        }
        compared += blocks;
        // Stop at the shorter file; a trailing partial block is ignored.
        if (n1 < chunkSize || n2 < chunkSize) break;
      }
      out.line(`${differing}/${compared} differs`);
      return differing === 0 ? 0 : 1;
    }),
};
