/**
 * `walb wdiff-send`: acts as a proxy and pushes one sorted wdiff file to an archive with
 * `wdiff-transfer` (offline-tools.md §5.7, protocol-and-servers.md §1.10.2). The packs are
 * sent as stored in the file (the original re-packs them with snappy:0:1; the archive stores
 * what it receives, so only the compression of its copy can differ).
 *
 * Exit status: 0 when the archive's reply equals `-msg`; 1 otherwise, or on an option,
 * file or connection error.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { UsageError } from "../lib/errors.ts";
import { ServerClient } from "../lib/controller/client.ts";
import {
  type MetaDiff,
  metaDiffProblem,
  metaSnap,
  parseDiffFileName,
  parseTimestampCompact,
} from "../lib/format/meta/mod.ts";
import { openWdiff } from "../lib/format/wdiff/mod.ts";
import { DenoNet } from "../lib/net.ts";
import { runWdiffTransferClient, type WirePack } from "../lib/server/wdiff_transfer.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser, type ParsedOptions } from "./option.ts";

/** The original's help text (offline-tools.md Appendix A). */
export const WDIFF_SEND_USAGE =
  `This command connects to an archive server and try to send a wdiff file
using wdiff-transfer protocol.

usage:wdiff-send [opt] ADDRESS PORT VOL SIZE WDIFF_PATH
  ADDRESS : address or name of an archive server
  PORT : port number of an archive server
  VOL : volume identifier
  SIZE : disk size [byte]. You can specify a size suffix K/M/G/T
  WDIFF_PATH : wdiff file path
  -h : show this message
  -g0 : begin gid (overwrite the diff metadata)
  -g1 : end gid (overwrite the diff metadata)
  -merge : isMergeable. 0 is false, 1 is true (overwrite the diff metadata)
  -time : time string (overwrite the diff metadata)
  -uuid : uuid string (overwrite the diff metadata)
  -msg : response message to validate
  -timeout : socket timeout [sec]
  -node : node identifier
  -debug : put debug messages to stderr
`;

function parser(): OptionParser {
  const p = new OptionParser("wdiff-send", { usage: WDIFF_SEND_USAGE });
  p.param("ADDRESS", "string", "");
  p.param("PORT", "string", "");
  p.param("VOL", "string", "");
  p.param("SIZE", "u64", "");
  p.param("WDIFF_PATH", "string", "");
  p.option("g0", "i64", "", { default: "-1" });
  p.option("g1", "i64", "", { default: "-1" });
  p.option("merge", "i32", "", { default: "-1" });
  p.option("time", "string", "", { default: "" });
  p.option("uuid", "string", "", { default: "" });
  p.option("msg", "string", "", { default: "accept" });
  p.option("timeout", "u32", "", { default: "10" });
  p.option("node", "string", "", { default: "wdiff-send" });
  p.flag("debug", "");
  return p;
}

/**
 * The MetaDiff to send: from the file name unless -g0, -g1, -merge and -time are all
 * given; given options override their fields.
 *
 * @throws {UsageError} when the result breaks the diff rules
 */
export function wdiffSendDiff(path: string, options: ParsedOptions): MetaDiff {
  const g0 = options.big("g0");
  const g1 = options.big("g1");
  const merge = options.num("merge");
  const time = options.str("time");
  const baseName = path.slice(path.lastIndexOf("/") + 1);
  const allGiven = g0 >= 0n && g1 >= 0n && merge >= 0 && time !== "";
  let diff: MetaDiff = allGiven
    ? {
      isMergeable: false,
      isCompDiff: false,
      timestamp: 0,
      snapB: metaSnap(0n),
      snapE: metaSnap(1n),
      dataSize: 0,
    }
    : parseDiffFileName(baseName);
  if (g0 >= 0n) diff = { ...diff, snapB: { gidB: g0, gidE: g0 } };
  if (g1 >= 0n) diff = { ...diff, snapE: { gidB: g1, gidE: g1 } };
  if (merge >= 0) diff = { ...diff, isMergeable: merge !== 0 };
  if (time !== "") diff = { ...diff, timestamp: parseTimestampCompact(time) };
  const problem = metaDiffProblem(diff.snapB, diff.snapE);
  if (problem !== null) throw new UsageError(`bad diff:${problem}`);
  return diff;
}

function parseUuid(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(text)) throw new UsageError(`bad uuid:${text}`);
  return Uint8Array.from(text.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535 || Number(text) === 0) {
    throw new UsageError(`bad port:${text}`);
  }
  return Number(text);
}

async function run(args: string[], io: CommandIo): Promise<number> {
  return await runTool("wdiff-send", io, async ({ log }) => {
    const options = parser().parse(args);
    log.debugEnabled = options.bool("debug");
    const path = options.str("WDIFF_PATH");
    const diff = wdiffSendDiff(path, options);
    const port = parsePort(options.str("PORT"));
    const expected = options.str("msg");
    const opened = await openWdiff(path);
    try {
      const reader = opened.reader;
      if (reader.format !== "sorted") throw new UsageError(`not a sorted wdiff:${path}`);
      const uuid = options.str("uuid") === "" ? reader.header.uuid : parseUuid(options.str("uuid"));
      const packs = async function* (): AsyncGenerator<WirePack> {
        // Only reached after "accept": any other expected reply is a mismatch.
        if (expected !== "accept") {
          throw new UsageError(`runDummyProxy:bad response:accept:${expected}`);
        }
        for await (const pack of reader.packs()) yield { block: pack.block, payload: pack.payload };
      };
      const client = new ServerClient({ address: options.str("ADDRESS"), port }, {
        net: new DenoNet({ clock: realClock }),
        clock: realClock,
        clientId: options.str("node"),
        timeoutMs: options.num("timeout") * 1000,
      });
      log.debug(`wdiff-send:${options.str("VOL")}:${path}`);
      const reply = await client.request(
        "wdiff-transfer",
        (packet) =>
          runWdiffTransferClient(packet, {
            volId: options.str("VOL"),
            hostType: "proxy",
            uuid,
            maxIoBlocks: 0,
            sizeLb: options.big("SIZE") >> 9n,
            diff,
          }, packs()),
      );
      if (reply !== expected) {
        throw new UsageError(`runDummyProxy:bad response:${reply}:${expected}`);
      }
      return 0;
    } finally {
      opened.close();
    }
  });
}

/** `walb wdiff-send`. */
export const command: Command = {
  name: "wdiff-send",
  summary: "push a wdiff file to an archive as a proxy would",
  run,
};
