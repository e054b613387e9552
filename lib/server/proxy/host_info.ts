/**
 * `AddrPort`, `CompressOpt` and `HostInfoForBkp` (protocol-and-servers.md §1.3): their
 * serialized form (the `archive-info` exchange and the `<archiveName>.archive` files of
 * wdiff-and-archive.md §14) and their text forms.
 *
 * @module
 */
import {
  COMPRESSION_NAMES,
  type CompressionTypeCode,
  type CompressOpt,
} from "../../codec/codec.ts";
import { formatCompressOpt, parseCompressOpt } from "../../codec/mod.ts";
import { UsageError } from "../../errors.ts";
import type { SerialReader, SerialWriter } from "../../format/serializer/mod.ts";
import { VU32 } from "../../format/serializer/mod.ts";

/** Longest address string we read (host names are ≤ 255 bytes). */
export const ADDR_SIZE_MAX = 1024;

/** Highest CompressOpt level the reader accepts. */
const COMPRESS_LEVEL_MAX = 9;

/** An archive's address: `str` addr, `u16` port (fixed width). */
export interface AddrPort {
  addr: string;
  port: number;
}

/** What the proxy knows about one archive of a volume. */
export interface HostInfoForBkp {
  addrPort: AddrPort;
  compression: CompressOpt;
  /** Delay before sending a freshly received wdiff [s]. */
  wdiffSendDelaySec: number;
}

/** Appends a HostInfoForBkp: AddrPort, CompressOpt (three u8), `vu32` delay. */
export function writeHostInfo(writer: SerialWriter, info: HostInfoForBkp): void {
  writer.string(info.addrPort.addr).u16(info.addrPort.port);
  writer.u8(info.compression.type).u8(info.compression.level).u8(info.compression.numCpu);
  writer.varInt(BigInt(info.wdiffSendDelaySec), VU32);
}

/**
 * Reads a HostInfoForBkp and verifies it like the original: non-empty address, port ≠ 0,
 * compression type < 6, level ≤ 9, numCpu ≥ 1.
 *
 * @throws {CorruptDataError} on a malformed or invalid value
 */
export function readHostInfo(reader: SerialReader): HostInfoForBkp {
  const offset = reader.offset;
  const addr = reader.string("AddrPort addr", ADDR_SIZE_MAX);
  const port = reader.u16("AddrPort port");
  if (addr === "") throw reader.corrupt("AddrPort", "empty address", offset);
  if (port === 0) throw reader.corrupt("AddrPort", "port 0", offset);
  const cmprOffset = reader.offset;
  const type = reader.u8("CompressOpt type");
  const level = reader.u8("CompressOpt level");
  const numCpu = reader.u8("CompressOpt numCpu");
  if (type >= COMPRESSION_NAMES.length) {
    throw reader.corrupt("CompressOpt", `bad type ${type}`, cmprOffset);
  }
  if (level > COMPRESS_LEVEL_MAX) {
    throw reader.corrupt("CompressOpt", `bad level ${level}`, cmprOffset);
  }
  if (numCpu === 0) throw reader.corrupt("CompressOpt", "numCpu 0", cmprOffset);
  const delay = reader.varInt(VU32, "wdiffSendDelaySec");
  return {
    addrPort: { addr, port },
    compression: { type: type as CompressionTypeCode, level, numCpu },
    wdiffSendDelaySec: Number(delay),
  };
}

/** `addr:port`. */
export function formatAddrPort(addrPort: AddrPort): string {
  return `${addrPort.addr}:${addrPort.port}`;
}

/**
 * The text form `addr:port TYPE:LEVEL:NUMCPU DELAY` (what walbc prints for `archive-info get`).
 *
 * @example
 * ```ts
 * import { formatHostInfo } from "./host_info.ts";
 * const text = formatHostInfo({
 *   addrPort: { addr: "localhost", port: 10200 },
 *   compression: { type: 2, level: 0, numCpu: 1 },
 *   wdiffSendDelaySec: 0,
 * });
 * if (text !== "localhost:10200 snappy:0:1 0") throw new Error(text);
 * ```
 */
export function formatHostInfo(info: HostInfoForBkp): string {
  return `${formatAddrPort(info.addrPort)} ${
    formatCompressOpt(info.compression)
  } ${info.wdiffSendDelaySec}`;
}

/**
 * Builds a HostInfoForBkp from walbc's `archive-info add` words: `addr:port` (required),
 * compression `TYPE:LEVEL:NUMCPU` (default `snappy:0:1`), delay seconds (default 0).
 *
 * @throws {UsageError} on bad syntax
 */
export function parseHostInfoParams(
  addrPortText: string,
  compressionText = "snappy:0:1",
  delayText = "0",
): HostInfoForBkp {
  const index = addrPortText.indexOf(":");
  const portText = addrPortText.slice(index + 1);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : 0;
  if (index <= 0 || port < 1 || port > 65535) {
    throw new UsageError(`parseAddrPort:bad address:${addrPortText}`);
  }
  if (!/^[0-9]{1,10}$/.test(delayText) || Number(delayText) > 0xffffffff) {
    throw new UsageError(`parseHostInfo:bad delay:${delayText}`);
  }
  return {
    addrPort: { addr: addrPortText.slice(0, index), port },
    compression: parseCompressOpt(compressionText),
    wdiffSendDelaySec: Number(delayText),
  };
}
