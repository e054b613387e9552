/**
 * Turning queued write requests into logpacks (device-and-wlog.md §5.2 step 1, §3.3–3.4, §9
 * items 2–4): requests are split into records of at most 65535 lb (and at most half the
 * ring, so a pack with its padding always fits), packed in arrival order until the header is
 * full, total_io_size would pass 65535 or `max_logpack_pb`, or a flush is reached. Padding
 * keeps every payload inside the ring. Planning does not consume the queue: the engine
 * commits a plan once the log has room for it.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import {
  lbToPbCount,
  LOGICAL_BLOCK_SIZE,
  MAX_DISCARD_IO_SECTORS,
  MAX_NORMAL_IO_SECTORS,
} from "../../format/wlog/constants.ts";
import { isNormalRecord, isPaddingRecord } from "../../format/wlog/logpack.ts";
import { type Logpack, LogpackBuilder, type LogpackIo } from "../../format/wlog/logpack_builder.ts";
import type { DataIo } from "./data_io.ts";
import { alignedBytes } from "../../../ffi/libc.ts";
import type { PayloadLease, PayloadPool } from "./payload_pool.ts";

/** A write or discard waiting to be logged. */
export interface IoRequest {
  kind: "write" | "discard";
  offsetLb: number;
  sizeLb: number;
  /** The payload of a write (sizeLb * 512 bytes); null for a discard. */
  data: Uint8Array | null;
  /**
   * When `data` is a lent payload buffer the engine took over: the request's hold on it,
   * released when the request settles (its records hold their own from commit).
   */
  lease: PayloadLease | null;
  fua: boolean;
  /** lb already placed in committed packs. */
  cursorLb: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A flush waiting for the log before it to be durable. */
export interface FlushRequest {
  kind: "flush";
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Anything in the engine's submit queue, in arrival order. */
export type QueuedRequest = IoRequest | FlushRequest;

/** One slice of a request that became one record. */
export interface PlannedPiece {
  request: IoRequest;
  startLb: number;
  sizeLb: number;
}

/** A contiguous run of pb for the ldev: `parts` written back to back from `lsid`. */
export interface LogRun {
  lsid: bigint;
  parts: Uint8Array[];
  /**
   * When the run is a copy in a pooled buffer: the writer's hold on it, released once the
   * log write completed (the records viewing the copy hold it from commit).
   */
  lease?: PayloadLease;
}

/** A sealed pack ready to be committed. */
export interface PlannedPack {
  pack: Logpack;
  pieces: PlannedPiece[];
  /** What to write on the ldev: the header and payloads (padding payloads are not written). */
  runs: LogRun[];
  /**
   * The pack's IOs for the ddev, in record order: views of `runs` (copies), or of the lent
   * payloads themselves with their leases (not yet held: the engine holds them at commit).
   */
  dataIos: DataIo[];
  /** Bytes of write payload (what the pack adds to pending data). */
  payloadBytes: number;
}

/** Geometry and limits of planning. */
export interface PlanParams {
  pbs: number;
  salt: number;
  ringBufferSize: bigint;
  /** max_logpack_pb; 0 means unlimited. */
  maxLogpackPb: number;
  /** Where copied runs come from (default: fresh memory). */
  runPool?: PayloadPool;
}

/** Largest normal record [lb]: 65535 lb, at most (ring − 1) / 2 pb, whole pb. */
export function maxPieceLb(pbs: number, ringBufferSize: bigint): number {
  const lbPerPb = pbs / LOGICAL_BLOCK_SIZE;
  const ringHalfPb = (ringBufferSize - 1n) / 2n;
  const piecePb = Math.min(
    Math.floor(MAX_NORMAL_IO_SECTORS / lbPerPb),
    ringHalfPb > 65535n ? 65535 : Number(ringHalfPb),
  );
  return piecePb * lbPerPb;
}

/**
 * Plans the pack at `lsid` from the head of `queue` (stopping before the first flush).
 *
 * @returns undefined only when the queue starts with a flush or holds no IO
 */
export function planPack(
  queue: readonly QueuedRequest[],
  lsid: bigint,
  params: PlanParams,
): PlannedPack | undefined {
  const { pbs, ringBufferSize, maxLogpackPb } = params;
  const pieceLbMax = maxPieceLb(pbs, ringBufferSize);
  assert(pieceLbMax > 0, "the ring holds at least one record");
  const builder = new LogpackBuilder({ pbs, salt: params.salt, lsid, ringBufferSize });
  const pieces: PlannedPiece[] = [];
  const ring = Number(ringBufferSize > 1n << 40n ? 1n << 40n : ringBufferSize);
  fill: for (const request of queue) {
    if (request.kind === "flush") break;
    for (let cursor = request.cursorLb; cursor < request.sizeLb;) {
      let sizeLb: number;
      if (request.kind === "discard") {
        sizeLb = Math.min(request.sizeLb - cursor, MAX_DISCARD_IO_SECTORS);
        if (!builder.addDiscard(request.offsetLb + cursor, sizeLb)) break fill;
      } else {
        sizeLb = Math.min(request.sizeLb - cursor, pieceLbMax);
        const piecePb = lbToPbCount(sizeLb, pbs);
        const total = builder.totalIoSize;
        if (!builder.isEmpty) {
          if (maxLogpackPb > 0 && total + piecePb > maxLogpackPb) break fill;
          if (1 + total + 2 * piecePb > ring) break fill;
        }
        const payload = request.data!.subarray(
          cursor * LOGICAL_BLOCK_SIZE,
          (cursor + sizeLb) * LOGICAL_BLOCK_SIZE,
        );
        if (!builder.addNormal(request.offsetLb + cursor, payload)) break fill;
      }
      pieces.push({ request, startLb: cursor, sizeLb });
      cursor += sizeLb;
    }
  }
  // A pack may hold only the padding before the ring end: the IO goes to the next pack.
  if (builder.isEmpty) return undefined;
  return layOut(builder.seal(), pieces, pbs, params.runPool);
}

/**
 * Smallest ldev run laid out in page-aligned memory (the alignment costs up to 4 KiB more;
 * smaller runs are merged with others into one bounce-buffered write anyway).
 */
const ALIGNED_RUN_BYTES_MIN = 128 * 1024;

/** Copies the sealed pack into ldev runs, or lays it out in place, and derives the ddev IOs. */
function layOut(
  pack: Logpack,
  pieces: PlannedPiece[],
  pbs: number,
  pool: PayloadPool | undefined,
): PlannedPack {
  const normals = pack.ios.filter((io) => !isPaddingRecord(io.record));
  assert(normals.length === pieces.length, "one record per planned piece");
  return isInPlace(normals, pieces)
    ? layOutInPlace(pack, normals, pieces, pbs)
    : layOutCopied(pack, pieces, pbs, pool);
}

/**
 * Whether every write of the pack is a whole view of a lent payload buffer (not a padded
 * copy), so the ldev write and the ddev IOs can use the payloads themselves.
 */
function isInPlace(normals: readonly LogpackIo[], pieces: readonly PlannedPiece[]): boolean {
  let writes = 0;
  for (const [index, io] of normals.entries()) {
    if (!isNormalRecord(io.record)) continue;
    const request = pieces[index]!.request;
    if (request.lease === null || io.data.buffer !== request.data!.buffer) return false;
    writes++;
  }
  return writes > 0;
}

/**
 * Segments of consecutive pb to write: the header, then payloads up to a padding record
 * (padding payloads are not written), then the payloads after it.
 */
function segmentsOf(pack: Logpack, header: Uint8Array, pbs: number): LogRun[] {
  const segments: LogRun[] = [{ lsid: pack.header.logpackLsid, parts: [header] }];
  for (const io of pack.ios) {
    if (isPaddingRecord(io.record)) {
      segments.push({ lsid: io.record.lsid + BigInt(io.data.length / pbs), parts: [] });
    } else if (isNormalRecord(io.record)) {
      segments[segments.length - 1]!.parts.push(io.data);
    }
  }
  return segments.filter((segment) => segment.parts.length > 0);
}

/**
 * The payloads go to the ldev as they are, after the header copied into page-aligned memory:
 * an O_DIRECT ldev writes the run with one pwritev and no copy. The ddev IOs are the payload
 * views, each with its request's lease (held from commit).
 */
function layOutInPlace(
  pack: Logpack,
  normals: readonly LogpackIo[],
  pieces: PlannedPiece[],
  pbs: number,
): PlannedPack {
  const header = alignedBytes(Math.max(pbs, 4096)).subarray(0, pbs);
  header.set(pack.block);
  const runs = segmentsOf(pack, header, pbs);
  const dataIos: DataIo[] = [];
  let payloadBytes = 0;
  for (const [index, io] of normals.entries()) {
    const offsetBytes = io.record.offset * LOGICAL_BLOCK_SIZE;
    const lengthBytes = io.record.ioSize * LOGICAL_BLOCK_SIZE;
    if (!isNormalRecord(io.record)) {
      dataIos.push({ offsetBytes, lengthBytes, data: null });
      continue;
    }
    const lease = pieces[index]!.request.lease;
    assert(lease !== null, "an in-place write has a lent payload");
    assert(io.data.length === lengthBytes, "an in-place payload is whole pb");
    dataIos.push({ offsetBytes, lengthBytes, data: io.data, lease });
    payloadBytes += lengthBytes;
  }
  return { pack, pieces, runs, dataIos, payloadBytes };
}

/**
 * Copies the pack's header and payloads into ldev runs (pooled buffers when a pool is given,
 * else fresh memory); the ddev IOs view the copies, with their run's lease.
 */
function layOutCopied(
  pack: Logpack,
  pieces: PlannedPiece[],
  pbs: number,
  pool: PayloadPool | undefined,
): PlannedPack {
  const runs: LogRun[] = [];
  const copies = new Map<Uint8Array, { copy: Uint8Array; lease: PayloadLease | undefined }>();
  for (const segment of segmentsOf(pack, pack.block, pbs)) {
    const size = segment.parts.reduce((sum, part) => sum + part.length, 0);
    if (size === 0) continue;
    let data: Uint8Array;
    let lease: PayloadLease | undefined;
    if (pool !== undefined) {
      ({ bytes: data, lease } = pool.takeHeld(size));
    } else {
      // Big runs in page-aligned memory: an O_DIRECT ldev writes them without a bounce copy.
      data = size >= ALIGNED_RUN_BYTES_MIN ? alignedBytes(size) : new Uint8Array(size);
    }
    let position = 0;
    for (const part of segment.parts) {
      data.set(part, position);
      copies.set(part, { copy: data.subarray(position, position + part.length), lease });
      position += part.length;
    }
    runs.push(
      lease === undefined ? { lsid: segment.lsid, parts: [data] } : {
        lsid: segment.lsid,
        parts: [data],
        lease,
      },
    );
  }
  const dataIos: DataIo[] = [];
  let payloadBytes = 0;
  for (const io of pack.ios) {
    if (isPaddingRecord(io.record)) continue;
    const offsetBytes = io.record.offset * LOGICAL_BLOCK_SIZE;
    const lengthBytes = io.record.ioSize * LOGICAL_BLOCK_SIZE;
    if (isNormalRecord(io.record)) {
      const laid = copies.get(io.data);
      assert(laid !== undefined, "every normal record is laid out");
      const data = laid.copy.subarray(0, lengthBytes);
      dataIos.push(
        laid.lease === undefined
          ? { offsetBytes, lengthBytes, data }
          : { offsetBytes, lengthBytes, data, lease: laid.lease },
      );
      payloadBytes += lengthBytes;
    } else {
      dataIos.push({ offsetBytes, lengthBytes, data: null });
    }
  }
  assert(dataIos.length === pieces.length, "one record per planned piece");
  return { pack, pieces, runs, dataIos, payloadBytes };
}
