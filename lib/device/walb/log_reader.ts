/**
 * Reading logpacks from an ldev ring (device-and-wlog.md §3.6–3.8, §8): the header at an
 * expected lsid, its payloads, and the first normal record whose payload checksum fails.
 * Used by redo, by the engine's pack-boundary checks and by tests that read the log back.
 *
 * @module
 */
import {
  inspectLogpackHeader,
  isNormalRecord,
  type LogpackHeader,
  type LogRecord,
  nextLsidOf,
  payloadChecksum,
  payloadSize,
} from "../../format/wlog/logpack.ts";
import type { LdevRing } from "./ldev.ts";

/** One record of a pack read from the ldev, with its payload (empty unless normal). */
export interface LdevIo {
  record: LogRecord;
  /** io_size * 512 bytes for normal records; empty for discard and padding. */
  payload: Uint8Array;
}

/** A pack read at an lsid: valid (maybe with a bad payload), or why the block is not one. */
export type LdevPackRead =
  | {
    kind: "valid";
    header: LogpackHeader;
    /** The header pb as read. */
    block: Uint8Array;
    ios: LdevIo[];
    /** Index of the first normal record whose payload checksum fails, if any. */
    badRecordIndex: number | undefined;
    nextLsid: bigint;
  }
  | { kind: "invalid"; problem: string };

/**
 * Reads only the header block at lsid and checks it as a logpack at that position
 * (§3.6 rules 1–8 and the positional check). A header with no record is "invalid" here:
 * this engine never writes one, and it would not advance the log (§3.7).
 */
export async function readLogpackHeaderAt(
  ring: LdevRing,
  lsid: bigint,
  salt: number,
): Promise<{ header: LogpackHeader; block: Uint8Array } | { problem: string }> {
  const block = await ring.read(lsid, 1);
  const inspection = inspectLogpackHeader(block, {
    pbs: ring.pbs,
    salt,
    expectedLsid: lsid,
    offset: ring.byteOffset(lsid),
  });
  if (inspection.kind === "invalid") return { problem: inspection.problem };
  if (inspection.kind === "end") return { problem: "end block (logpack_lsid 2^64 - 1)" };
  if (inspection.header.nRecords === 0) return { problem: "header has no record" };
  return { header: inspection.header, block };
}

/**
 * Reads the pack at lsid: the header (must be valid at that position), then its
 * total_io_size pb of data, and verifies each normal record's payload checksum.
 *
 * @returns the pack, or `invalid` with the reason (the end of the log on an ldev)
 */
export async function readLogpackAt(
  ring: LdevRing,
  lsid: bigint,
  salt: number,
): Promise<LdevPackRead> {
  const head = await readLogpackHeaderAt(ring, lsid, salt);
  if ("problem" in head) return { kind: "invalid", problem: head.problem };
  const { header, block } = head;
  if (BigInt(header.totalIoSize) + 1n > ring.ringBufferSize) {
    return { kind: "invalid", problem: `pack of ${header.totalIoSize} pb exceeds the ring` };
  }
  const data = header.totalIoSize === 0
    ? new Uint8Array(0)
    : await ring.read(lsid + 1n, header.totalIoSize);
  const ios: LdevIo[] = [];
  let badRecordIndex: number | undefined;
  header.records.forEach((record, index) => {
    if (!isNormalRecord(record)) {
      ios.push({ record, payload: new Uint8Array(0) });
      return;
    }
    const start = (record.lsidLocal - 1) * ring.pbs;
    const payload = data.subarray(start, start + payloadSize(record));
    if (
      badRecordIndex === undefined &&
      (payload.length !== payloadSize(record) ||
        payloadChecksum(payload, salt) !== record.checksum)
    ) {
      badRecordIndex = index;
    }
    ios.push({ record, payload });
  });
  return { kind: "valid", header, block, ios, badRecordIndex, nextLsid: nextLsidOf(header) };
}

/** Why {@link readLogRange} stopped. */
export interface LogRangeEnd {
  /** lsid after the last complete valid pack. */
  endLsid: bigint;
  /** "limit" when `endLsid` reached the limit, else what was wrong at `endLsid`. */
  reason: string;
}

/**
 * Iterates the valid packs from `fromLsid` (a pack boundary) while below `limitLsid`,
 * stopping at the first invalid header or bad payload (§8). The returned value says where
 * and why it stopped.
 */
export async function* readLogRange(
  ring: LdevRing,
  salt: number,
  fromLsid: bigint,
  limitLsid: bigint,
): AsyncGenerator<Extract<LdevPackRead, { kind: "valid" }>, LogRangeEnd> {
  let lsid = fromLsid;
  while (lsid < limitLsid) {
    const pack = await readLogpackAt(ring, lsid, salt);
    if (pack.kind === "invalid") return { endLsid: lsid, reason: pack.problem };
    if (pack.badRecordIndex !== undefined) {
      return { endLsid: lsid, reason: `record ${pack.badRecordIndex} payload checksum fails` };
    }
    yield pack;
    lsid = pack.nextLsid;
  }
  return { endLsid: lsid, reason: "limit" };
}
