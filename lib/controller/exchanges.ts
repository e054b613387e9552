/**
 * Client halves of the controller exchanges after the negotiation (protocol-and-servers.md
 * §1.5, §1.9): P-SENDVEC with a confirmation, P-VALUE replies (`get`, `status`, `exec`),
 * `snapshot`'s gid, `archive-info` with its HostInfoForBkp, and the `bhash` stream.
 * Pure over a {@link Packet}; the caller closes the connection.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { COMPRESSION_NAMES } from "../codec/codec.ts";
import { type CompressOpt, formatCompressOpt, parseCompressOpt } from "../codec/mod.ts";
import { parseHostPort } from "../net.ts";
import { STATUS, STREAM_CONTROL } from "../protocol/constants.ts";
import { ProtocolError } from "../errors.ts";
import type { Packet } from "../protocol/packet.ts";
import {
  expectStatus,
  receiveValueReply,
  sendStringVector,
  type TypedValue,
  type ValueType,
} from "../protocol/reply.ts";
import { readStreamControl } from "../protocol/stream_control.ts";
import { LIMITS } from "../limits.ts";

/** P-SENDVEC(count, confirm): sends `params`, requires `confirm` (`ok` or `accept`). */
export async function runCommandClient(
  packet: Packet,
  params: readonly string[],
  options: { count?: number; confirm: string; context: string },
): Promise<void> {
  await sendStringVector(packet, params, options);
}

/** P-SENDVEC(0) then P-VALUE of `type` (`get`, `status`, `exec`). */
export async function runValueClient(
  packet: Packet,
  params: readonly string[],
  type: ValueType,
  context: string,
): Promise<TypedValue> {
  await sendStringVector(packet, params);
  const value = await receiveValueReply(packet, type, context);
  return { type, value } as TypedValue;
}

/** `snapshot`: P-SENDVEC(1), then `"ok"` and the gid. */
export async function runSnapshotClient(packet: Packet, volId: string): Promise<bigint> {
  await sendStringVector(packet, [volId], { count: 1 });
  await expectStatus(packet, STATUS.ok, "c2sSnapshotClient");
  return await packet.readU64("snapshot gid");
}

// ---- archive-info ----

/** Where and how a proxy sends wdiffs to one archive (`HostInfoForBkp`). */
export interface HostInfoForBkp {
  /** Archive host name or address. */
  address: string;
  /** Archive port. */
  port: number;
  /** Compression of the sent wdiffs. */
  cmpr: CompressOpt;
  /** Delay before sending wdiffs [s]. */
  delaySec: number;
}

/**
 * Builds a HostInfoForBkp from walbc's words `ADDR:PORT [CMPR [DELAY]]` (defaults
 * `snappy:0:1`, 0).
 *
 * @throws {UsageError} on a bad address, compression or delay
 */
export function parseHostInfo(words: readonly string[]): HostInfoForBkp {
  const [addrPort, cmprText, delayText] = words;
  if (addrPort === undefined) throw new UsageError("parseHostInfo:address not specified");
  const { hostname, port } = parseHostPort(addrPort);
  const cmpr = parseCompressOpt(cmprText ?? "snappy:0:1");
  let delaySec = 0;
  if (delayText !== undefined) {
    if (!/^[0-9]{1,10}$/.test(delayText) || Number(delayText) > 0xffffffff) {
      throw new UsageError(`parseHostInfo:bad delay:${delayText}`);
    }
    delaySec = Number(delayText);
  }
  return { address: hostname, port, cmpr, delaySec };
}

/** `addr:port TYPE:LEVEL:NUMCPU DELAY`. */
export function formatHostInfo(info: HostInfoForBkp): string {
  return `${info.address}:${info.port} ${formatCompressOpt(info.cmpr)} ${info.delaySec}`;
}

/** Appends a HostInfoForBkp (unflushed). */
export function writeHostInfo(packet: Packet, info: HostInfoForBkp): void {
  packet.writeString(info.address).writeU16(info.port);
  packet.writeU8(info.cmpr.type).writeU8(info.cmpr.level).writeU8(info.cmpr.numCpu);
  packet.writeU32(info.delaySec);
}

/**
 * Reads a HostInfoForBkp.
 *
 * @throws {ProtocolError} when a field is out of range
 */
export async function readHostInfo(packet: Packet): Promise<HostInfoForBkp> {
  const address = await packet.readString("archive address", LIMITS.protocolNameSizeMax);
  const port = await packet.readU16("archive port");
  const type = await packet.readU8("compression type");
  const level = await packet.readU8("compression level");
  const numCpu = await packet.readU8("compression numCpu");
  const delaySec = await packet.readU32("wdiff send delay");
  if (address === "" || port === 0 || type >= COMPRESSION_NAMES.length || level > 9) {
    throw new ProtocolError(`Cannot read HostInfoForBkp: bad field:${address}:${port}:${type}`);
  }
  if (numCpu === 0) throw new ProtocolError("Cannot read HostInfoForBkp: numCpu is 0");
  return {
    address,
    port,
    cmpr: { type: type as CompressOpt["type"], level, numCpu },
    delaySec,
  };
}

/** The `archive-info` sub-commands. */
export const ARCHIVE_INFO_COMMANDS = ["list", "add", "update", "get", "delete"] as const;

/** One `archive-info` request. */
export type ArchiveInfoRequest =
  | { cmd: "list"; volId: string }
  | { cmd: "get" | "delete"; volId: string; archiveName: string }
  | { cmd: "add" | "update"; volId: string; archiveName: string; hostInfo: HostInfoForBkp };

/** What `archive-info` returns: names for `list`, the info for `get`, nothing otherwise. */
export type ArchiveInfoReply = string[] | HostInfoForBkp | undefined;

/** `archive-info` (§1.9.6): `[cmd, volId]`, archive name, host info, `"ok"`, the result. */
export async function runArchiveInfoClient(
  packet: Packet,
  request: ArchiveInfoRequest,
): Promise<ArchiveInfoReply> {
  packet.writeStringVector([request.cmd, request.volId]);
  if (request.cmd !== "list") packet.writeString(request.archiveName);
  if (request.cmd === "add" || request.cmd === "update") writeHostInfo(packet, request.hostInfo);
  await packet.flush();
  await expectStatus(packet, STATUS.ok, "c2pArchiveInfoClient");
  if (request.cmd === "list") return await packet.readStringVector("archive names");
  if (request.cmd === "get") return await readHostInfo(packet);
  return undefined;
}

// ---- bhash ----

/** Dummy bytes a bhash client accepts before End (one a second: about 12 days). */
const BHASH_DUMMY_COUNT_MAX = 1 << 20;

/**
 * `bhash` (§1.11.6): params, `"accept"`, Dummy bytes until End, `"ok"`, the 16-byte hash.
 *
 * @returns the hash as 32 lowercase hex digits
 */
export async function runBhashClient(packet: Packet, params: readonly string[]): Promise<string> {
  await sendStringVector(packet, params, { confirm: STATUS.accept, context: "c2aBlockHashClient" });
  for (let i = 0;; i++) {
    if (i > BHASH_DUMMY_COUNT_MAX) throw new ProtocolError("Cannot read bhash: too many dummies");
    const control = await readStreamControl(packet, "bhash stream control");
    if (control === STREAM_CONTROL.end) break;
    if (control !== STREAM_CONTROL.dummy) {
      throw new ProtocolError(`Cannot read bhash: control byte ${control}`);
    }
  }
  await expectStatus(packet, STATUS.ok, "c2aBlockHashClient");
  const hash = await packet.readBytes(16, "bhash hash", 16);
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
}
