/**
 * `walb wlog-update`: rewrite fields of a wlog file header in place (offline-tools.md §3.7).
 * The original always crashed; this implements its intent.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import {
  buildWlogHeader,
  decodeWlogHeader,
  formatWlogHeader,
  WALBLOG_HEADER_SIZE,
  wlogHeaderProblem,
} from "../lib/format/wlog/mod.ts";
import { writeAll } from "../lib/io/stream.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

function parser(): OptionParser {
  const p = new OptionParser("wlog-update", {
    description: "Wlupdate: update wlog file header.",
  });
  p.param("WLOG_PATH", "string", ": walb log path. must be seekable.");
  p.option("b", "u64", "LSID: begin lsid.");
  p.option("e", "u64", "LSID: end lsid.");
  p.option("s", "u32", "SALT: logpack salt.");
  p.option("u", "string", "UUID: uuid in hex string.");
  p.flag("v", ": verbose messages to stderr.");
  return p;
}

function parseUuid(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(text)) throw new UsageError("Invalid UUID string.");
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(text.slice(2 * i, 2 * i + 2), 16));
}

async function readHeaderBlock(file: Deno.FsFile): Promise<Uint8Array> {
  const block = new Uint8Array(WALBLOG_HEADER_SIZE);
  let filled = 0;
  while (filled < block.length) {
    const n = await file.read(block.subarray(filled));
    if (n === null) {
      throw new UsageError("invalid wlog header.: the file is shorter than 4096 bytes");
    }
    filled += n;
  }
  return block;
}

/** `wlog-update` */
export const command: Command = {
  name: "wlog-update",
  summary: "rewrite wlog header fields in place",
  run: (args, io) =>
    runTool("wlog-update", io, async ({ log }) => {
      const opts = parser().parse(args);
      const uuid = opts.isSet("u") ? parseUuid(opts.str("u")) : undefined;
      using file = await Deno.open(opts.str("WLOG_PATH"), { read: true, write: true });
      const block = await readHeaderBlock(file);
      const header = decodeWlogHeader(block);
      const problem = wlogHeaderProblem(block, header);
      if (problem !== undefined) throw new UsageError(`invalid wlog header.: ${problem}`);
      log.raw(formatWlogHeader(header) + "\n");

      const updated = { ...header };
      if (opts.isSet("b")) updated.beginLsid = opts.big("b");
      if (opts.isSet("e")) updated.endLsid = opts.big("e");
      if (opts.isSet("s")) updated.salt = opts.num("s");
      if (uuid !== undefined) updated.uuid = uuid;
      const changed = updated.beginLsid !== header.beginLsid ||
        updated.endLsid !== header.endLsid || updated.salt !== header.salt ||
        updated.uuid.some((b, i) => b !== header.uuid[i]);
      if (!changed) {
        log.raw("Not updated.\n");
        return 0;
      }
      if (updated.beginLsid >= updated.endLsid) throw new UsageError("Updated header is invalid.");
      const newBlock = buildWlogHeader(updated);
      await file.seek(0, Deno.SeekMode.Start);
      await writeAll(file, newBlock);
      await file.syncData();
      log.raw(formatWlogHeader(decodeWlogHeader(newBlock)) + "\n");
      return 0;
    }),
};
