/**
 * `wdiff-transfer` (protocol-and-servers.md §1.10.2, §1.11.3), both halves of the exchange
 * over a {@link Packet}: the header values (volId, host type, UUID, maxIoBlocks, sizeLb,
 * MetaDiff), the reply string, the pack stream (`Next`, `vu64` size, pack; `End`) and the
 * final Ack. The archive's decision logic lives in `archive/`; the proxy's sender later.
 *
 * @module
 */
import { assert, CorruptDataError, ProtocolError } from "../errors.ts";
import { type MetaDiff, readMetaDiff, writeMetaDiff } from "../format/meta/mod.ts";
import {
  checkRecordOrder,
  decodePackHeader,
  decodePackRecords,
  isEndPack,
  PACK_HEADER_FIXED_SIZE,
  PACK_HEADER_SIZE,
  type PackHeader,
  SORTED_RECORD_SIZE,
  validatePackHeader,
} from "../format/wdiff/mod.ts";
import { LIMITS } from "../limits.ts";
import { STATUS, STREAM_CONTROL } from "../protocol/constants.ts";
import type { Packet } from "../protocol/packet.ts";
import { readAck, writeAck } from "../protocol/reply.ts";
import { readStreamControl, writeStreamControl } from "../protocol/stream_control.ts";

/** Largest pack a receiver accepts: header plus 32 MiB payload (§1.3.2). */
export const WDIFF_TRANSFER_PACK_SIZE_MAX = PACK_HEADER_SIZE + LIMITS.wdiffPackDataSizeMax;

/** The values a sender writes before the reply (steps 1–6). */
export interface WdiffTransferHeader {
  volId: string;
  /** `proxy` or `archive`. */
  hostType: string;
  /** Device UUID (16 bytes). */
  uuid: Uint8Array;
  /** Always 0 (ignored). */
  maxIoBlocks: number;
  /** The sender's volume size [lb]. */
  sizeLb: bigint;
  diff: MetaDiff;
}

/** A pack as sent: the 4096-byte block and its payload. */
export interface WirePack {
  block: Uint8Array;
  payload: Uint8Array;
}

/** A received, validated pack with its decoded header. */
export interface ReceivedPack extends WirePack {
  header: PackHeader;
}

/** Appends steps 1–6 (unflushed). */
export function writeWdiffTransferHeader(packet: Packet, header: WdiffTransferHeader): void {
  packet.writeString(header.volId).writeString(header.hostType).writeBytes(header.uuid)
    .writeU32(header.maxIoBlocks).writeU64(header.sizeLb);
  packet.write((w) => writeMetaDiff(w, header.diff));
}

/**
 * Reads steps 1–6.
 *
 * @throws {CorruptDataError} / LimitExceededError / ProtocolError on malformed values
 */
export async function readWdiffTransferHeader(packet: Packet): Promise<WdiffTransferHeader> {
  const volId = await packet.readString("volId", LIMITS.protocolNameSizeMax);
  const hostType = await packet.readString("host type", LIMITS.protocolNameSizeMax);
  const uuid = await packet.readBytes(16, "uuid", 16);
  const maxIoBlocks = await packet.readU32("maxIoBlocks");
  const sizeLb = await packet.readU64("sizeLb");
  const diff = await packet.read("MetaDiff", (r) => readMetaDiff(r));
  return { volId, hostType, uuid, maxIoBlocks, sizeLb, diff };
}

/**
 * Client side after the negotiation: sends the header, reads the reply; on `accept` sends
 * every pack then End and reads the Ack.
 *
 * @returns the server's reply (`accept` after a completed transfer, or the refusal string)
 */
export async function runWdiffTransferClient(
  packet: Packet,
  header: WdiffTransferHeader,
  packs: AsyncIterable<WirePack> | Iterable<WirePack>,
): Promise<string> {
  writeWdiffTransferHeader(packet, header);
  await packet.flush();
  const reply = await packet.readString("wdiff-transfer reply");
  if (reply !== STATUS.accept) return reply;
  for await (const pack of packs) {
    writeStreamControl(packet, STREAM_CONTROL.next);
    packet.writeSize(pack.block.length + pack.payload.length);
    packet.writeBytesHeld(pack.block).writeBytesHeld(pack.payload);
    await packet.flush();
  }
  writeStreamControl(packet, STREAM_CONTROL.end);
  await packet.flush();
  await readAck(packet, "wdiff-transfer ack");
  return reply;
}

/** Options of {@link receiveWdiffPacks}. */
export interface ReceiveWdiffOptions {
  /** Checked between packs (force stop, shutdown). */
  signal?: AbortSignal;
  /**
   * Read every payload into one buffer (up to 32 MiB, allocated once) instead of a fresh one
   * per pack: the caller must be done with a pack before it asks for the next one.
   */
  reusePayloadBuffer?: boolean;
}

/**
 * Server side: reads the pack stream until End, validating every pack (block checksum,
 * records, data checksums, order across packs) before yielding it.
 *
 * @throws {ProtocolError} on an Error control byte or an unexpected byte
 * @throws {LimitExceededError} when a pack size is over {@link WDIFF_TRANSFER_PACK_SIZE_MAX}
 * @throws {CorruptDataError} / ChecksumMismatchError on an invalid pack
 */
export async function* receiveWdiffPacks(
  packet: Packet,
  options: ReceiveWdiffOptions = {},
): AsyncGenerator<ReceivedPack> {
  const signal = options.signal;
  let previousEnd = 0;
  let offset = 0;
  let payloadBuffer: Uint8Array | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const control = await readStreamControl(packet, "wdiff pack stream control");
    if (control === STREAM_CONTROL.end) return;
    if (control !== STREAM_CONTROL.next) {
      throw new ProtocolError(`Cannot read wdiff pack stream: control byte ${control}`);
    }
    const size = await packet.readSize("wdiff pack size", WDIFF_TRANSFER_PACK_SIZE_MAX);
    if (size < PACK_HEADER_SIZE) {
      throw new CorruptDataError("wdiff pack", offset, `size ${size} is below 4096`);
    }
    const block = await packet.readBytes(PACK_HEADER_SIZE, "wdiff pack header", PACK_HEADER_SIZE);
    const header = decodePackHeader(block, offset);
    validatePackHeader(header, block, offset);
    if (isEndPack(header)) throw new CorruptDataError("wdiff pack", offset, "end pack in stream");
    if (header.totalSize !== size - PACK_HEADER_SIZE) {
      throw new CorruptDataError(
        "wdiff pack",
        offset,
        `total_size ${header.totalSize} differs from the announced size ${size}`,
      );
    }
    let payload: Uint8Array;
    if (options.reusePayloadBuffer === true) {
      // totalSize = size - 4096, and size was read against WDIFF_TRANSFER_PACK_SIZE_MAX.
      assert(header.totalSize <= LIMITS.wdiffPackDataSizeMax, "pack payload within the limit");
      payloadBuffer ??= new Uint8Array(LIMITS.wdiffPackDataSizeMax);
      payload = payloadBuffer.subarray(0, header.totalSize);
      await packet.readBytesInto(payload, "wdiff pack payload");
    } else {
      payload = await packet.readBytes(
        header.totalSize,
        "wdiff pack payload",
        LIMITS.wdiffPackDataSizeMax,
      );
    }
    for (const [i, record] of header.records.entries()) {
      const at = offset + PACK_HEADER_FIXED_SIZE + i * SORTED_RECORD_SIZE;
      previousEnd = checkRecordOrder(record, previousEnd, `wdiff record ${i}`, at);
    }
    // Verifies every record's stored checksum; decompression is left to whoever applies it.
    decodePackRecords({ offset, block, header, payload }, { lazy: true });
    yield { block, payload, header };
    offset += size;
  }
}

/** Server side: the final Ack (the caller does the Fin close). */
export function writeWdiffTransferAck(packet: Packet): void {
  writeAck(packet);
}
