/**
 * Named limits and defaults of the userland WalB engine (kept beside it, like the block
 * layer's, until they move to lib/limits.ts). Relations are asserted when the module loads.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { BLOCK_LIMITS } from "../block/block_device.ts";

export const WALB_ENGINE_LIMITS = {
  /** Default checkpoint interval [ms] (driver default, §5.4). */
  checkpointIntervalMsDefault: 10_000,
  /** Largest checkpoint interval [ms]: one day (§5.4). */
  checkpointIntervalMsMax: 86_400_000,
  /** Default `max_logpack_kb` (wdevc default, §6.3); 0 means unlimited. */
  maxLogpackKbDefault: 32,
  /** Default `max_pending_mb` (wdevc default): logged data not yet on the ddev. */
  maxPendingMbDefault: 32,
  /** Upper bound of `max_pending_mb` (MAX_PENDING_MB). */
  maxPendingMbMax: 16384,
  /** Default `log_flush_interval_ms` (wdevc default): periodic ldev flush. */
  logFlushIntervalMsDefault: 100,
  /** Default `log_flush_interval_mb` (wdevc default): flush the ldev after this much log. */
  logFlushIntervalMbDefault: 16,
  /**
   * Packs applied to the ddev in one round (their non-overlapping IOs run together, at most
   * applyCallsMax calls in flight, touching writes merged into one gather write). With one
   * pwrite per IO and no bound on calls in flight, 4 packs per round cut 4 KiB random writes
   * from ~11k to 5-9k IOPS (session 1: ~32 pwrites queued in the blocking pool ahead of the
   * ldev writes); bounded, 64 packs per round let sequential writes merge into few big
   * pwritev calls.
   */
  applyPacksMax: 64,
  /**
   * Longest stretch the applier issues ddev writes without letting the event loop run [ms],
   * for ddevs whose writes complete on this thread (memory; PosixFileDevice with
   * syncWriteSizeMaxBytes, where a round of 64 packs of 4 KiB writes took 4-12 ms on the busy
   * VM): NBD replies and log writes should not wait behind them.
   */
  applySliceMs: 1,
  /**
   * ddev calls the applier keeps in flight: enough to overlap big writes on the blocking pool,
   * few enough that they never queue deep ahead of the log writes acknowledgements wait for.
   */
  applyCallsMax: 8,
  /** Parts of one gather write to the ddev (Linux IOV_MAX). */
  gatherPartsMax: 1024,
  /** Packs written to the ldev in one batch (driver `n_pack_bulk` default). */
  packsPerBatchMax: 128,
  /**
   * Batches whose log write is in flight at once: the next batch is planned and written while
   * the previous ones' O_DIRECT writes run (acknowledged and `completed` strictly in lsid
   * order), so a client streaming big writes does not wait a whole log write per batch.
   * 4 lets each request of a QD 4 stream of 1 MiB writes have its own log write in flight
   * (2: 275-953 MB/s, 4: 516-960 MB/s in 6 alternating runs on the busy 2-core VM); small
   * writes are not affected (see pipelineBytesMin).
   */
  batchesInFlightMax: 4,
  /**
   * Queued write payload [bytes] that starts a batch while another is in flight. Smaller
   * queues wait for the batch in flight and join the next one whole: measured with 4 KiB
   * random writes at QD 32 on a busy 2-core VM, starting small batches early cost more CPU
   * (one ldev write and more FFI calls each) than it saved in latency (12.9k -> 9-11k IOPS),
   * while 1 MiB writes gained (~380 -> ~440 MB/s).
   */
  pipelineBytesMin: 512 * 1024,
  /**
   * Smallest write whose payload buffer the engine lends (`takeWriteBuffer`) [bytes]: a big
   * write is read into page-aligned pooled memory and logged in place, where a copy into a
   * fresh pack buffer cost a zeroed 1 MiB allocation, its page faults and garbage collection
   * per 1 MiB write. Small writes are copied into shared runs (the server pools their buffers).
   */
  lentPayloadSizeMin: 64 * 1024,
  /**
   * Free lent payload buffers kept for reuse [bytes]: the pending data a streaming client
   * keeps in flight (max_pending_mb default 32) comes back to the pool as it is applied.
   */
  payloadPoolBytesMax: 32 * 1024 * 1024,
  /** Longest WalB device name (WALB_DEV_NAME_MAX_LEN). */
  nameLengthMax: 25,
  /** Longest freeze timeout [s] (FREEZE clips to one day). */
  freezeTimeoutSecMax: 86_400,
  /** Bytes of one ldev or ddev call: the block layer's I/O limit. */
  ioSizeBytesMax: BLOCK_LIMITS.ioSizeMax,
} as const;

assert(
  WALB_ENGINE_LIMITS.ioSizeBytesMax >= 65535 * 512,
  "a normal record's payload fits in one device call",
);
assert(
  WALB_ENGINE_LIMITS.maxPendingMbDefault <= WALB_ENGINE_LIMITS.maxPendingMbMax,
  "default max pending within the driver bound",
);
