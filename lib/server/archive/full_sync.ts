/**
 * Archive side of `dirty-full-sync3` (protocol-and-servers.md §1.10.3, §1.11.4,
 * wdiff-and-archive.md §13.1, §16): the request values, the acceptance checks, the UUID and
 * its Ack, the dirty full-sync stream written into the base image (zero bulks as zeros,
 * `fdatasync` every `-fi` bytes, progress for `get progress`), the final Ack, then the
 * MetaSnap that becomes the base `<|0, gidE|>` with the backup's start time, a fresh archive
 * UUID, state `Archived`, Ack (Fin).
 *
 * The bulk stream halves ({@link sendFullSyncBulk}, {@link receiveFullSyncStream}) are here
 * so that the storage (sender) and the archive (receiver) share one definition.
 *
 * @module
 */
import { baseImageName } from "../../archive-backend/mod.ts";
import { getCodec } from "../../codec/mod.ts";
import {
  COMPRESSION_NAMES,
  type CompressionTypeCode,
  type CompressOpt,
} from "../../codec/codec.ts";
import {
  assert,
  ChecksumMismatchError,
  CorruptDataError,
  LimitExceededError,
} from "../../errors.ts";
import { checksum } from "../../format/checksum/checksum.ts";
import { formatMetaSnap, metaState, readMetaSnap } from "../../format/meta/mod.ts";
import { FULL_SYNC_LIMITS } from "../../limits.ts";
import { HOST_TYPE, STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import type { Packet } from "../../protocol/packet.ts";
import { finClose, readAck, sendError, writeAck } from "../../protocol/reply.ts";
import { BulkDecoderPool, type DecodedBulk } from "../bulk_decoder.ts";
import { codesInThread, encodeBulk, type EncodedBulk } from "../bulk_encode.ts";
import { releaseBytes } from "../release_bytes.ts";
import { BackgroundSync } from "../../io/background_sync.ts";
import { checkVolumeId } from "../runtime/format.ts";
import type { ServerContext } from "../runtime/server.ts";
import { AS } from "./constants.ts";
import { CoalescingWriter } from "./coalescing_writer.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

const FN = "dirtyFullSyncServer";
const LB = 512;

/** Largest bulk of a full sync [lb]: 4 MiB, the top of the `-bulk` range (§1.9.5). */
export const FULL_SYNC_BULK_LB_MAX = 8192;

/**
 * Largest stored (compressed) bulk we accept [bytes]: the largest bulk plus the worst
 * expansion of any codec on incompressible data (snappy: n/6 + 32; the others less).
 */
export const FULL_SYNC_STORED_SIZE_MAX = FULL_SYNC_BULK_LB_MAX * LB +
  Math.ceil(FULL_SYNC_BULK_LB_MAX * LB / 6) + 4096;

/** What the storage sends before the archive's reply (§1.10.3 steps 4–9). */
export interface FullSyncRequest {
  hostType: string;
  volId: string;
  sizeLb: bigint;
  /** Storage's unix time; the base timestamp. */
  curTime: bigint;
  bulkLb: bigint;
  compression: CompressOpt;
}

/** Appends steps 4–9 (unflushed). */
export function writeFullSyncRequest(packet: Packet, request: FullSyncRequest): void {
  packet.writeString(request.hostType).writeString(request.volId).writeU64(request.sizeLb)
    .writeU64(request.curTime).writeU64(request.bulkLb)
    .writeU8(request.compression.type).writeU8(request.compression.level)
    .writeU8(request.compression.numCpu);
}

/**
 * Reads steps 4–9.
 *
 * @throws {CorruptDataError} on a bad CompressOpt
 */
export async function readFullSyncRequest(packet: Packet): Promise<FullSyncRequest> {
  const hostType = await packet.readString("host type", 64);
  const volId = await packet.readString("volId", 256);
  const sizeLb = await packet.readU64("sizeLb");
  const curTime = await packet.readU64("curTime");
  const bulkLb = await packet.readU64("bulkLb");
  const offset = packet.position;
  const type = await packet.readU8("CompressOpt type");
  const level = await packet.readU8("CompressOpt level");
  const numCpu = await packet.readU8("CompressOpt numCpu");
  if (type >= COMPRESSION_NAMES.length || level > 9 || numCpu === 0) {
    throw new CorruptDataError("CompressOpt", offset, `bad value ${type}:${level}:${numCpu}`);
  }
  return {
    hostType,
    volId,
    sizeLb,
    curTime,
    bulkLb,
    compression: { type: type as CompressionTypeCode, level, numCpu },
  };
}

/**
 * Appends one bulk of the dirty full-sync stream (§1.11.4): `00` for an all-zero bulk, else
 * `vu64` stored size, `vu32` checksum of the stored bytes (salt 0), the stored bytes — the bulk
 * compressed with `compression` (always, even when larger; type none is a verbatim copy).
 */
export function sendFullSyncBulk(packet: Packet, bulk: Uint8Array, compression: CompressOpt) {
  writeEncodedBulk(packet, encodeBulk(bulk, compression));
}

/** Appends one bulk already encoded by {@link encodeBulk} (here or in a worker). */
export function writeEncodedBulk(packet: Packet, bulk: EncodedBulk): void {
  if (bulk.stored === null) {
    packet.writeU64(0n);
    return;
  }
  packet.writeU64(BigInt(bulk.stored.length)).writeU32(bulk.checksum).writeBytesHeld(bulk.stored);
}

/** Options of {@link receiveFullSyncStream}. */
export interface ReceiveFullSyncOptions {
  sizeLb: bigint;
  bulkLb: number;
  compression: CompressOpt;
  /** Writes one bulk (`data` undefined: all zero; else a buffer the callee owns) at `offsetLb`. */
  write(offsetLb: bigint, lengthLb: number, data: Uint8Array | undefined): Promise<void>;
  /** Told after each bulk with the LB done so far. */
  progress?(doneLb: bigint): void;
  /** Checked between bulks. */
  signal?: AbortSignal;
  /**
   * Optional, for bulks decoded in this thread: a view of exactly `lengthLb` blocks to
   * decompress the bulk into, which `write` then receives as its data (e.g.
   * {@link CoalescingWriter.reserve}); undefined for a new array.
   */
  placeBulk?(offsetLb: bigint, lengthLb: number): Uint8Array | undefined;
  /** Workers verifying and decompressing bulks (0 or absent: in this thread). */
  workerCount?: number;
}

/**
 * Receives every bulk of [0, sizeLb): verifies each stored bulk's checksum and decompresses
 * it to exactly the bulk's size before writing.
 *
 * @throws {ChecksumMismatchError} / CorruptDataError / LimitExceededError on bad data
 */
export async function receiveFullSyncStream(
  packet: Packet,
  options: ReceiveFullSyncOptions,
): Promise<void> {
  const pool = (options.workerCount ?? 0) > 0
    ? new BulkDecoderPool(options.workerCount!)
    : undefined;
  const codec = getCodec(options.compression.type);
  const queue: QueuedBulk[] = [];
  let receiveBuffer: Uint8Array | undefined;
  try {
    for (let offsetLb = 0n; offsetLb < options.sizeLb;) {
      options.signal?.throwIfAborted();
      const remaining = options.sizeLb - offsetLb;
      const lengthLb = Number(remaining < BigInt(options.bulkLb) ? remaining : options.bulkLb);
      const what = `full-sync bulk at ${offsetLb}`;
      const streamOffset = packet.position;
      const storedSize = await packet.readU64(`${what} size`);
      const item: QueuedBulk = { offsetLb, lengthLb, what, streamOffset, expected: 0 };
      if (storedSize !== 0n) {
        if (storedSize > BigInt(FULL_SYNC_STORED_SIZE_MAX)) {
          throw new LimitExceededError(what, FULL_SYNC_STORED_SIZE_MAX, storedSize);
        }
        item.expected = await packet.readU32(`${what} checksum`);
        if (pool === undefined) {
          // Decoded at once: one receive buffer serves every bulk (no allocation per bulk).
          receiveBuffer ??= new Uint8Array(FULL_SYNC_STORED_SIZE_MAX);
          const stored = receiveBuffer.subarray(0, Number(storedSize));
          await packet.readBytesInto(stored, what);
          const actual = checksum(stored, 0);
          if (actual !== item.expected) {
            throw new ChecksumMismatchError(what, streamOffset, actual, item.expected);
          }
          const place = codec.decompressInto === undefined
            ? undefined
            : options.placeBulk?.(offsetLb, lengthLb);
          let data: Uint8Array;
          if (place !== undefined) {
            codec.decompressInto!(stored, place);
            data = place;
          } else {
            data = codec.decompress(stored, lengthLb * LB);
          }
          assert(
            data.buffer !== receiveBuffer.buffer,
            "decompressed data is not the receive buffer",
          );
          item.decoded = Promise.resolve({ checksum: actual, data });
        } else {
          const stored = await packet.readBytes(
            Number(storedSize),
            what,
            FULL_SYNC_STORED_SIZE_MAX,
          );
          item.decoded = pool.decode(stored, lengthLb * LB, options.compression.type);
          item.decoded.catch(() => {}); // awaited in turn by writeQueued
        }
      }
      queue.push(item);
      while (queue.length > (pool === undefined ? 0 : FULL_SYNC_LIMITS.archiveDecodesInFlightMax)) {
        await writeQueued(queue.shift()!, options);
      }
      offsetLb += BigInt(lengthLb);
    }
    while (queue.length > 0) await writeQueued(queue.shift()!, options);
  } finally {
    await Promise.allSettled(queue.map((item) => item.decoded));
    pool?.close();
  }
}

/** A received bulk waiting for its decoding (undefined: all zero) and its write. */
interface QueuedBulk {
  offsetLb: bigint;
  lengthLb: number;
  what: string;
  streamOffset: number;
  expected: number;
  decoded?: Promise<DecodedBulk>;
}

/** Checks a decoded bulk (checksum, size), writes it and reports the progress. */
async function writeQueued(item: QueuedBulk, options: ReceiveFullSyncOptions): Promise<void> {
  const { what, streamOffset } = item;
  if (item.decoded === undefined) {
    await options.write(item.offsetLb, item.lengthLb, undefined);
  } else {
    const decoded = await item.decoded;
    if (decoded.checksum !== item.expected) {
      throw new ChecksumMismatchError(what, streamOffset, decoded.checksum, item.expected);
    }
    if ("corrupt" in decoded) throw new CorruptDataError(what, streamOffset, decoded.corrupt);
    if (decoded.data.length !== item.lengthLb * LB) {
      throw new CorruptDataError(what, streamOffset, `${decoded.data.length} bytes decompressed`);
    }
    await options.write(item.offsetLb, item.lengthLb, decoded.data);
  }
  options.progress?.(item.offsetLb + BigInt(item.lengthLb));
}

/** The acceptance checks (§1.10.3, archive side). */
function accept(
  context: ArchiveContext,
  request: FullSyncRequest,
): { volume: ArchiveVolume; release: () => void } {
  if (request.hostType !== HOST_TYPE.storage) {
    throw new RequestError(`${FN}:invalid host type:${request.hostType}`);
  }
  checkVolumeId(request.volId, FN);
  if (request.bulkLb === 0n) throw new RequestError(`${FN}:bulkLb is zero`);
  if (request.bulkLb > BigInt(FULL_SYNC_BULK_LB_MAX)) {
    throw new RequestError(`${FN}:bulkLb too large:${request.bulkLb}`);
  }
  if (request.sizeLb === 0n || request.sizeLb * BigInt(LB) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RequestError(`${FN}:bad sizeLb:${request.sizeLb}`);
  }
  const release = context.runtime.foreground.acquire(FN);
  try {
    const volume = context.volume(request.volId);
    volume.stop.verifyNotStopping(FN, request.volId);
    if (volume.actions.total() > 0) {
      throw new RequestError(`${FN}:there are running actions:${request.volId}`);
    }
    if (volume.state.state !== AS.syncReady || volume.state.inTransaction) {
      throw new RequestError(`${FN}:bad state:${request.volId}:${volume.state.state}`);
    }
    return { volume, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Creates the base image of `sizeLb`, or grows/reuses an existing one. */
async function prepareBaseImage(context: ArchiveContext, volId: string, sizeLb: bigint) {
  const name = baseImageName(volId);
  const sizeBytes = Number(sizeLb) * LB;
  if (!(await context.backend.exists(name))) {
    await context.backend.create(name, sizeBytes);
  } else if (await context.backend.sizeBytes(name) < sizeBytes) {
    await context.backend.resize(name, sizeBytes);
  }
}

/** Serves one `dirty-full-sync3` connection. */
export async function serveDirtyFullSync(
  context: ArchiveContext,
  server: ServerContext,
): Promise<void> {
  const packet = server.packet;
  let request: FullSyncRequest;
  let volume: ArchiveVolume;
  let release: () => void;
  try {
    request = await readFullSyncRequest(packet);
    ({ volume, release } = accept(context, request));
  } catch (error) {
    if (!(error instanceof RequestError) && !(error instanceof CorruptDataError)) throw error;
    sendError(packet, error.message);
    await packet.flush();
    server.log("WARNING", error.message);
    return;
  }
  const volId = request.volId;
  const startMs = context.runtime.clock.nowMs();
  try {
    packet.writeString(STATUS.accept);
    await packet.flush();
    const uuid = await packet.readBytes(16, "uuid", 16);
    writeAck(packet);
    await packet.flush();
    server.log("INFO", `dirty-full-sync3 started:${volId}:${request.sizeLb}:${request.bulkLb}`);
    const tx = volume.state.begin(AS.syncReady, AS.fullSync, FN);
    try {
      const persisted = await context.store.readState(volId);
      if (persisted !== AS.syncReady) {
        throw new RequestError(`${FN}:bad persisted state:${volId}:${persisted}`);
      }
      await prepareBaseImage(context, volId, request.sizeLb);
      volume.progressLb = 0n;
      await receiveIntoBase(context, volume, request, server);
      writeAck(packet);
      await packet.flush();
      const snap = await packet.read("MetaSnap", readMetaSnap);
      const base = metaState(snap, Number(request.curTime));
      const archiveUuid = new Uint8Array(16);
      crypto.getRandomValues(archiveUuid);
      await context.store.writeBase(volId, base);
      await context.store.writeArchiveUuid(volId, archiveUuid);
      await context.store.writeUuid(volId, uuid);
      await context.store.writeState(volId, AS.archived);
      volume.base = base;
      volume.archiveUuid = archiveUuid;
      volume.uuid = uuid;
      volume.lastSyncTimeSec = context.nowSec();
      tx.commit(AS.archived);
      const elapsed = (context.runtime.clock.nowMs() - startMs) / 1000;
      server.log(
        "INFO",
        `dirty-full-sync3 succeeded:${volId}:${formatMetaSnap(snap)}:elapsed_time ${
          elapsed.toFixed(3)
        } sec`,
      );
    } finally {
      volume.progressLb = 0n;
      tx.rollback();
    }
    writeAck(packet);
    await finClose(packet);
  } finally {
    release();
  }
}

/**
 * Receives the stream into the base image, syncing every `-fi` bytes and at the end. Bulks
 * are gathered into `archiveWriteSizeBytes` writes, up to `archiveWritesInFlightMax` of them
 * running while the next bulks are received and decompressed; every one of them completes
 * before each sync, so a sync still covers all the bytes received before it.
 */
async function receiveIntoBase(
  context: ArchiveContext,
  volume: ArchiveVolume,
  request: FullSyncRequest,
  server: ServerContext,
): Promise<void> {
  const image = await context.backend.open(baseImageName(volume.volId), { direct: true });
  const writer = new CoalescingWriter(
    image,
    FULL_SYNC_LIMITS.archiveWriteSizeBytes,
    FULL_SYNC_LIMITS.archiveWritesInFlightMax,
  );
  const writeback = new BackgroundSync(() => image.flush());
  try {
    let sinceSync = 0;
    let sinceWriteback = 0;
    const abort = new AbortController();
    const onAbort = () => abort.abort(new Error("force shutdown"));
    server.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await receiveFullSyncStream(server.packet, {
        sizeLb: request.sizeLb,
        bulkLb: Number(request.bulkLb),
        compression: request.compression,
        workerCount: codesInThread(request.compression.type)
          ? 0
          : Math.min(request.compression.numCpu, FULL_SYNC_LIMITS.compressWorkerCountMax),
        signal: abort.signal,
        progress: (doneLb) => volume.progressLb = doneLb,
        placeBulk: (offsetLb, lengthLb) => writer.reserve(Number(offsetLb) * LB, lengthLb * LB),
        write: async (offsetLb, lengthLb, data) => {
          if (volume.stop.isForce) throw new RequestError(`${FN}:force stopped:${volume.volId}`);
          // Zero bulks are written as zeroes too (the image may hold older data).
          const copied = await writer.append(Number(offsetLb) * LB, lengthLb * LB, data);
          if (copied && data !== undefined) releaseBytes(data);
          sinceSync += lengthLb * LB;
          sinceWriteback += lengthLb * LB;
          if (sinceSync >= context.config.fsyncIntervalBytes) {
            await writer.drain();
            await writeback.settle();
            await image.flush();
            sinceSync = 0;
            sinceWriteback = 0;
          } else if (sinceWriteback >= FULL_SYNC_LIMITS.archiveWritebackIntervalBytes) {
            // Covers the writes completed so far; the -fi and final syncs cover the rest.
            if (await writeback.tryStart()) sinceWriteback = 0;
          }
        },
      });
    } finally {
      server.signal.removeEventListener("abort", onAbort);
    }
    await writer.drain();
    await writeback.settle();
    await image.flush();
  } finally {
    await writer.settle();
    await writeback.settle().catch(() => {});
    await image.close();
  }
}

/** Client helper for tests and the storage: reads the archive's Ack after the stream. */
export async function readFullSyncAck(packet: Packet): Promise<void> {
  await readAck(packet, "dirty-full-sync3 ack");
}
