/**
 * The storage snapshot queue file (wdiff-and-archive.md §15.1): two copies of a 28-byte file
 * header (preamble 0x119D83A7, checksum, record salt, begin offset, end offset), then the
 * record area (offsets relative to byte 56) holding records {preamble, checksum of the data
 * with the salt, data size, distance back to the previous record header} each followed by a
 * serialized MetaLsidGid, newest first, and an end stub at the end offset.
 *
 * We write the whole file at once (atomically, through a temporary file), with the first
 * record at offset 0; a reader accepts any begin offset, as the original lays records out
 * while pushing to the front. Pure: bytes in, records out.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { checksum } from "../../format/checksum/checksum.ts";
import { type MetaLsidGid, readMetaLsidGid, writeMetaLsidGid } from "../../format/meta/mod.ts";
import { deserialize, serialize } from "../../format/serializer/mod.ts";

/** Preamble of the file header and of every record header. */
export const QUEUE_FILE_PREAMBLE = 0x119d83a7;
/** Size of one file header copy [bytes]. */
export const QUEUE_FILE_HEADER_SIZE = 28;
/** Where the record area starts [bytes]. */
export const QUEUE_RECORD_AREA_OFFSET = 2 * QUEUE_FILE_HEADER_SIZE;
/** Size of a record header [bytes]. */
export const QUEUE_RECORD_HEADER_SIZE = 16;
/**
 * Most records we read from a queue file: far more snapshots than a storage ever keeps
 * queued (one implicit snapshot per `-snapintvl` while the proxies are unreachable for days).
 */
export const QUEUE_RECORDS_MAX = 1_000_000;
/** Largest serialized MetaLsidGid (2 + 1 + 3 × 9 bytes). */
const RECORD_DATA_SIZE_MAX = 64;

/** A decoded queue file. */
export interface QueueFile {
  /** Salt of the record checksums (kept across rewrites). */
  salt: number;
  /** Records, newest first. */
  records: MetaLsidGid[];
}

function encodeHeader(salt: number, beginOffset: number, endOffset: number): Uint8Array {
  const bytes = new Uint8Array(QUEUE_FILE_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, QUEUE_FILE_PREAMBLE, true);
  view.setUint32(8, salt >>> 0, true);
  view.setBigUint64(12, BigInt(beginOffset), true);
  view.setBigUint64(20, BigInt(endOffset), true);
  view.setUint32(4, checksum(bytes, 0), true);
  return bytes;
}

/**
 * Encodes a queue file holding `records` (newest first).
 *
 * @example
 * ```ts
 * import { decodeQueueFile, encodeQueueFile } from "./queue_file.ts";
 * import { metaLsidGid } from "../../format/meta/mod.ts";
 * const bytes = encodeQueueFile({ salt: 7, records: [metaLsidGid(10n, 2n), metaLsidGid(5n, 1n)] });
 * if (decodeQueueFile(bytes).records[1]!.gid !== 1n) throw new Error("wrong");
 * ```
 */
export function encodeQueueFile(file: QueueFile): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  let previousSize = 0;
  for (const record of file.records) {
    const data = serialize((w) => writeMetaLsidGid(w, record));
    const header = new Uint8Array(QUEUE_RECORD_HEADER_SIZE);
    const view = new DataView(header.buffer);
    view.setUint32(0, QUEUE_FILE_PREAMBLE, true);
    view.setUint32(4, checksum(data, file.salt), true);
    view.setUint32(8, data.length, true);
    view.setUint32(12, previousSize, true);
    parts.push(header, data);
    previousSize = QUEUE_RECORD_HEADER_SIZE + data.length;
    offset += previousSize;
  }
  const stub = new Uint8Array(QUEUE_RECORD_HEADER_SIZE);
  const stubView = new DataView(stub.buffer);
  stubView.setUint32(0, QUEUE_FILE_PREAMBLE, true);
  stubView.setUint32(12, previousSize, true);
  parts.push(stub);
  const header = encodeHeader(file.salt, 0, offset);
  const total = QUEUE_RECORD_AREA_OFFSET + offset + QUEUE_RECORD_HEADER_SIZE;
  const bytes = new Uint8Array(total);
  bytes.set(header, 0);
  bytes.set(header, QUEUE_FILE_HEADER_SIZE);
  let position = QUEUE_RECORD_AREA_OFFSET;
  for (const part of parts) {
    bytes.set(part, position);
    position += part.length;
  }
  return bytes;
}

interface FileHeader {
  salt: number;
  beginOffset: number;
  endOffset: number;
}

function decodeHeader(bytes: Uint8Array, at: number): FileHeader | undefined {
  if (bytes.length < at + QUEUE_FILE_HEADER_SIZE) return undefined;
  const copy = bytes.slice(at, at + QUEUE_FILE_HEADER_SIZE);
  const view = new DataView(copy.buffer);
  if (view.getUint32(0, true) !== QUEUE_FILE_PREAMBLE) return undefined;
  if (checksum(copy, 0) !== 0) return undefined;
  const beginOffset = view.getBigUint64(12, true);
  const endOffset = view.getBigUint64(20, true);
  if (beginOffset > endOffset || endOffset > BigInt(bytes.length)) return undefined;
  return {
    salt: view.getUint32(8, true),
    beginOffset: Number(beginOffset),
    endOffset: Number(endOffset),
  };
}

/**
 * Decodes a queue file: the first valid header copy, then every record from the begin to the
 * end offset (checked: preamble, size, salted checksum, back distance).
 *
 * @throws {CorruptDataError} when neither header copy is valid or a record is bad
 * @throws {LimitExceededError} past {@link QUEUE_RECORDS_MAX} records
 */
export function decodeQueueFile(bytes: Uint8Array): QueueFile {
  const header = decodeHeader(bytes, 0) ?? decodeHeader(bytes, QUEUE_FILE_HEADER_SIZE);
  if (header === undefined) {
    throw new CorruptDataError("queue file header", 0, "no valid header copy");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const records: MetaLsidGid[] = [];
  let offset = header.beginOffset;
  let previousSize = 0;
  while (offset < header.endOffset) {
    const at = QUEUE_RECORD_AREA_OFFSET + offset;
    if (at + QUEUE_RECORD_HEADER_SIZE > bytes.length) {
      throw new CorruptDataError("queue record", at, "truncated header");
    }
    if (view.getUint32(at, true) !== QUEUE_FILE_PREAMBLE) {
      throw new CorruptDataError("queue record", at, "bad preamble");
    }
    const size = view.getUint32(at + 8, true);
    if (size === 0 || size > RECORD_DATA_SIZE_MAX) {
      throw new CorruptDataError("queue record", at, `data size ${size}`);
    }
    if (records.length > 0 && view.getUint32(at + 12, true) !== previousSize) {
      throw new CorruptDataError("queue record", at, "bad distance to the previous record");
    }
    const dataAt = at + QUEUE_RECORD_HEADER_SIZE;
    if (dataAt + size > bytes.length) {
      throw new CorruptDataError("queue record", at, "truncated data");
    }
    const data = bytes.subarray(dataAt, dataAt + size);
    const expected = view.getUint32(at + 4, true);
    if (checksum(data, header.salt) !== expected) {
      throw new CorruptDataError("queue record", at, "checksum mismatch");
    }
    if (records.length >= QUEUE_RECORDS_MAX) {
      throw new LimitExceededError("queue records", QUEUE_RECORDS_MAX, records.length + 1);
    }
    records.push(deserialize(data, readMetaLsidGid));
    previousSize = QUEUE_RECORD_HEADER_SIZE + size;
    offset += previousSize;
  }
  if (offset !== header.endOffset) {
    throw new CorruptDataError("queue file", QUEUE_RECORD_AREA_OFFSET + offset, "records overrun");
  }
  return { salt: header.salt, records };
}
