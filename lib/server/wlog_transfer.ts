/**
 * `wlog-transfer` (protocol-and-servers.md §1.10.1) and its wlog stream (§1.11.1), both
 * halves over a {@link Packet}: the header values (volId, UUID, pbs, salt, volSizeLb,
 * maxLogSizePb), the reply string, the stream of `Next` + `CompressedData` items (each
 * logpack header block, then the data of every record that has data) terminated by `End`,
 * the closing MetaDiff and the Ack. The storage sends (client), the proxy receives (server).
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError, ProtocolError } from "../errors.ts";
import { snappyCodec } from "../codec/snappy.ts";
import { checksum } from "../format/checksum/checksum.ts";
import { type MetaDiff, readMetaDiff, writeMetaDiff } from "../format/meta/mod.ts";
import {
  checkLogpackHeader,
  isDiscardRecord,
  isEndHeader,
  isPaddingRecord,
  type Logpack,
  type LogpackIo,
  nextLsidOf,
  recordPbCount,
} from "../format/wlog/mod.ts";
import { isValidPbs, MAX_NORMAL_IO_SECTORS, PAGE_SIZE } from "../format/wlog/constants.ts";
import { LIMITS } from "../limits.ts";
import { STATUS, STREAM_CONTROL } from "../protocol/constants.ts";
import type { Packet } from "../protocol/packet.ts";
import { readAck, writeAck } from "../protocol/reply.ts";
import { readStreamControl, writeStreamControl } from "../protocol/stream_control.ts";
import { releaseBytes } from "./release_bytes.ts";

/**
 * Largest uncompressed item of a wlog stream [bytes]: the data of one normal (or padding)
 * record, at most MAX_NORMAL_IO_SECTORS lb rounded up to the largest pbs. A logpack header
 * item is one pbs (≤ 4096), far below.
 */
export const WLOG_ITEM_SIZE_MAX = Math.ceil(MAX_NORMAL_IO_SECTORS * 512 / PAGE_SIZE) * PAGE_SIZE;

/**
 * Largest stored (snappy) size we accept for an item: snappy's worst-case expansion of the
 * largest item (32 + n + n/6). Senders compress only when it makes the item smaller, so real
 * streams stay below WLOG_ITEM_SIZE_MAX; the margin only spares us a stricter rule than the
 * original's.
 */
export const WLOG_ITEM_STORED_SIZE_MAX = 32 + WLOG_ITEM_SIZE_MAX +
  Math.ceil(WLOG_ITEM_SIZE_MAX / 6);

/** The values a storage writes before the proxy's reply (steps 1–6). */
export interface WlogTransferHeader {
  volId: string;
  /** Device UUID (16 bytes). */
  uuid: Uint8Array;
  /** Physical block size of the log device [bytes]. */
  pbs: number;
  /** Log checksum salt. */
  salt: number;
  /** Current walb device size [lb]. */
  volSizeLb: bigint;
  /** Upper bound of the wlog amount to be sent [pb]. */
  maxLogSizePb: bigint;
}

/** Appends steps 1–6 (unflushed). */
export function writeWlogTransferHeader(packet: Packet, header: WlogTransferHeader): void {
  packet.writeString(header.volId).writeBytes(header.uuid).writeU32(header.pbs)
    .writeU32(header.salt).writeU64(header.volSizeLb).writeU64(header.maxLogSizePb);
}

/**
 * Reads steps 1–6.
 *
 * @throws {CorruptDataError} / LimitExceededError / ProtocolError on malformed values
 */
export async function readWlogTransferHeader(packet: Packet): Promise<WlogTransferHeader> {
  const volId = await packet.readString("volId", LIMITS.protocolNameSizeMax);
  const uuid = await packet.readBytes(16, "uuid", 16);
  const pbs = await packet.readU32("pbs");
  const salt = await packet.readU32("salt");
  const volSizeLb = await packet.readU64("volSizeLb");
  const maxLogSizePb = await packet.readU64("maxLogSizePb");
  return { volId, uuid, pbs, salt, volSizeLb, maxLogSizePb };
}

/** Buffered stream bytes that trigger a socket write while sending a wlog stream (1 MiB). */
const WLOG_STREAM_WRITE_SIZE_MIN = 1024 * 1024;

// ---- CompressedData ----

/**
 * Appends one `CompressedData` (`vu32` cmpSize, `vu32` orgSize, bytes): raw snappy when that
 * is smaller, else the bytes as they are with cmpSize 0.
 */
export function writeCompressedData(packet: Packet, data: Uint8Array): void {
  writeCompressedDataHeld(packet, data);
}

/**
 * {@link writeCompressedData} that returns the compressed block the packet now holds (a
 * buffer of its own, undefined when the bytes went verbatim), so that the caller can free it
 * after the next flush.
 */
function writeCompressedDataHeld(packet: Packet, data: Uint8Array): Uint8Array | undefined {
  if (data.length === 0) throw new RangeError("CompressedData needs a non-empty payload");
  const compressed = snappyCodec.compress(data, 0);
  if (compressed.length < data.length) {
    packet.writeU32(compressed.length).writeU32(data.length).writeBytesHeld(compressed);
    return compressed;
  }
  releaseBytes(compressed);
  packet.writeU32(0).writeU32(data.length).writeBytes(data);
  return undefined;
}

/** One received `CompressedData`: the bytes and, when they came snappy-compressed, that form. */
export interface CompressedItem {
  /** The uncompressed bytes (a buffer only the caller holds). */
  data: Uint8Array;
  /** The raw snappy block as received (its own buffer), or undefined when sent verbatim. */
  compressed: Uint8Array | undefined;
}

/**
 * Reads one `CompressedData` and returns its uncompressed bytes, which must be exactly
 * `expectedSize` long.
 *
 * @throws {CorruptDataError} on a size mismatch or bad snappy data
 * @throws {LimitExceededError} when a size is over its limit
 */
export async function readCompressedData(
  packet: Packet,
  what: string,
  expectedSize: number,
): Promise<Uint8Array> {
  const item = await readCompressedItem(packet, what, expectedSize);
  return item.data;
}

/**
 * {@link readCompressedData} that also returns the compressed form as received, so that a
 * receiver storing the bytes snappy-compressed (the proxy's wdiff) need not compress them
 * again.
 */
export async function readCompressedItem(
  packet: Packet,
  what: string,
  expectedSize: number,
): Promise<CompressedItem> {
  const offset = packet.position;
  const storedSize = await packet.readU32(`${what} cmpSize`);
  const size = await packet.readU32(`${what} orgSize`);
  if (size !== expectedSize) {
    throw new CorruptDataError(what, offset, `orgSize is ${size}, expected ${expectedSize}`);
  }
  if (storedSize === 0) {
    return { data: await packet.readBytes(size, what, WLOG_ITEM_SIZE_MAX), compressed: undefined };
  }
  const stored = await packet.readBytes(storedSize, what, WLOG_ITEM_STORED_SIZE_MAX);
  try {
    return { data: snappyCodec.decompress(stored, size), compressed: stored };
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
    throw new CorruptDataError(what, offset, error.message, { cause: error });
  }
}

// ---- wlog stream ----

/**
 * True when a record travels with data: EXIST and not DISCARD (padding included) and at
 * least one pb of it. A zero-size padding record (the generator makes them) has no bytes to
 * send, and a `CompressedData` may not be empty, so neither side expects an item for it.
 */
function hasData(io: LogpackIo): boolean {
  return !isDiscardRecord(io.record) && io.data.length > 0;
}

/**
 * Sends the wlog stream (§1.11.1) of `packs` and its End byte. When iterating `packs` fails,
 * an Error byte is sent instead of End and the error is rethrown.
 *
 * @param packs logpacks in lsid order (sealed header block, records' whole data pb)
 */
export async function sendWlogStream(
  packet: Packet,
  packs: AsyncIterable<Logpack> | Iterable<Logpack>,
): Promise<void> {
  // Compressed blocks the packet holds until its next flush, then freed at once.
  const held: Uint8Array[] = [];
  const hold = (block: Uint8Array | undefined) => {
    if (block !== undefined) held.push(block);
  };
  try {
    for await (const pack of packs) {
      writeStreamControl(packet, STREAM_CONTROL.next);
      hold(writeCompressedDataHeld(packet, pack.block));
      for (const io of pack.ios) {
        if (!hasData(io)) continue;
        writeStreamControl(packet, STREAM_CONTROL.next);
        hold(writeCompressedDataHeld(packet, io.data));
      }
      // Larger socket writes: the proxy reads a stream, so flushing per logpack buys nothing.
      if (packet.pendingSize >= WLOG_STREAM_WRITE_SIZE_MIN) {
        await packet.flush();
        for (const block of held) releaseBytes(block);
        held.length = 0;
      }
    }
  } catch (error) {
    writeStreamControl(packet, STREAM_CONTROL.error);
    await packet.flush().catch(() => {});
    throw error;
  }
  writeStreamControl(packet, STREAM_CONTROL.end);
  await packet.flush();
}

/**
 * A received logpack; `compressed[i]` is the snappy block that carried `ios[i].data` (undefined
 * when the item came verbatim or the record has no data).
 */
export interface ReceivedLogpack extends Logpack {
  compressed: (Uint8Array | undefined)[];
}

/** Options of {@link receiveWlogStream}. */
export interface ReceiveWlogOptions {
  pbs: number;
  salt: number;
  /** Checked between items (force stop, shutdown). */
  signal?: AbortSignal;
}

async function expectNext(packet: Packet, what: string): Promise<boolean> {
  const control = await readStreamControl(packet, `${what} stream control`);
  if (control === STREAM_CONTROL.next) return true;
  if (control === STREAM_CONTROL.end) return false;
  if (control === STREAM_CONTROL.error) {
    throw new ProtocolError(`Cannot read the wlog stream: the sender reported an error`);
  }
  throw new ProtocolError(`Cannot read the wlog stream: unexpected control byte ${control}`);
}

/**
 * Receives the wlog stream until End, validating every logpack header (checksum with the
 * salt, record rules; an end header is refused) and every normal record's data checksum
 * before yielding the pack.
 *
 * @throws {ProtocolError} on an Error byte or a missing item
 * @throws {CorruptDataError} / ChecksumMismatchError / LimitExceededError on bad data
 */
export async function* receiveWlogStream(
  packet: Packet,
  options: ReceiveWlogOptions,
): AsyncGenerator<ReceivedLogpack> {
  const { pbs, salt } = options;
  if (!isValidPbs(pbs)) {
    throw new CorruptDataError("wlog stream", 0, `physical block size ${pbs} is invalid`);
  }
  for (;;) {
    options.signal?.throwIfAborted();
    if (!(await expectNext(packet, "logpack header"))) return;
    const offset = packet.position;
    const block = await readCompressedData(packet, "logpack header", pbs);
    const header = checkLogpackHeader(block, { pbs, salt, offset });
    if (isEndHeader(header)) {
      throw new CorruptDataError("logpack header", offset, "an end block in the wlog stream");
    }
    const ios: LogpackIo[] = [];
    const compressed: (Uint8Array | undefined)[] = [];
    for (const [i, record] of header.records.entries()) {
      if (isDiscardRecord(record) || record.ioSize === 0) {
        ios.push({ record, data: new Uint8Array(0), payload: new Uint8Array(0) });
        compressed.push(undefined);
        continue;
      }
      options.signal?.throwIfAborted();
      const what = `logpack ${header.logpackLsid} record ${i} data`;
      if (!(await expectNext(packet, what))) {
        throw new ProtocolError(`Cannot read ${what}: the stream ended`);
      }
      const dataOffset = packet.position;
      const item = await readCompressedItem(packet, what, recordPbCount(record, pbs) * pbs);
      const data = item.data;
      const payload = data.subarray(0, record.ioSize * 512);
      if (!isPaddingRecord(record)) {
        const actual = checksum(payload, salt);
        if (actual !== record.checksum) {
          throw new ChecksumMismatchError(what, dataOffset, actual, record.checksum);
        }
      }
      ios.push({ record, data, payload });
      compressed.push(item.compressed);
    }
    yield { header, block, ios, nextLsid: nextLsidOf(header), compressed };
  }
}

// ---- the whole exchange ----

/**
 * Client (storage) side after the negotiation: sends the header, reads the reply; on
 * `accept` sends the wlog stream, the MetaDiff and reads the Ack.
 *
 * @returns `accept` after a completed transfer, or the proxy's refusal text
 * @throws {ProtocolError} when the Ack is missing or wrong
 */
export async function runWlogTransferClient(
  packet: Packet,
  header: WlogTransferHeader,
  packs: AsyncIterable<Logpack> | Iterable<Logpack>,
  diff: MetaDiff,
): Promise<string> {
  writeWlogTransferHeader(packet, header);
  await packet.flush();
  const reply = await packet.readString("wlog-transfer reply");
  if (reply !== STATUS.accept) return reply;
  await sendWlogStream(packet, packs);
  packet.write((w) => writeMetaDiff(w, diff));
  await packet.flush();
  await readAck(packet, "wlog-transfer ack");
  return reply;
}

/** Server side: reads the MetaDiff that follows the stream (step 9). */
export async function readWlogTransferDiff(packet: Packet): Promise<MetaDiff> {
  return await packet.read("MetaDiff", (r) => readMetaDiff(r));
}

/** Server side: the final Ack (the caller does the Fin close). */
export function writeWlogTransferAck(packet: Packet): void {
  writeAck(packet);
}
