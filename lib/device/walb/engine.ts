/**
 * The userland WalB device engine (device-and-wlog.md §5, §9): block writes become logpacks
 * on the ldev and data on the ddev, with the kernel driver's lsid semantics, checkpoints,
 * overflow rule, freeze/melt, resize, reset-wal, redo at open and a clean stop.
 *
 * Write path (WAL order, §9 items 5 and 7): writes queue up; one batch at a time, the queue
 * is planned into packs at `latest` (group commit) and their contiguous runs go to the ldev
 * in one write; the next batch is planned while up to `batchesInFlightMax` log writes run.
 * Batches finish in lsid order: `completed` advances, then writes are acknowledged (after an
 * ldev flush for FUA or when a flush is queued). `permanent` advances only after an ldev flush covering the logs. The
 * data of a pack goes to the ddev only once `permanent` covers the pack, then `written`
 * advances. A checkpoint persists `written` only after a ddev flush: fdatasync(ddev), write
 * super, fdatasync(ldev).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { LOGICAL_BLOCK_SIZE } from "../../format/wlog/constants.ts";
import { formatLdevSuper, type SuperSectorInit } from "../../format/wlog/super_sector.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { SerialQueue } from "../block/block_device.ts";
import { formatLsids } from "../kernel/sysfs.ts";
import { ChangeSignal } from "./change_signal.ts";
import { applyDataIos, type DataIo } from "./data_io.ts";
import {
  checkCheckpointInterval,
  type EngineClock,
  type ResolvedEngineOptions,
  resolveEngineOptions,
  type WalbEngineEvent,
  type WalbEngineOptions,
} from "./engine_options.ts";
import { WalbEngineError } from "./errors.ts";
import { cryptoRandom, type RandomFill, randomSaltAndUuid } from "./format.ts";
import { LdevRing, writeSuperSector } from "./ldev.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";
import { readLogpackHeaderAt } from "./log_reader.ts";
import { checkLsidInvariants, type LsidSet, type MutableLsidSet } from "./lsid_state.ts";
import type { FlushRequest, IoRequest, PlannedPack, QueuedRequest } from "./pack_planner.ts";
import { planPack } from "./pack_planner.ts";
import { PendingData } from "./pending.ts";
import { type PayloadLease, PayloadPool } from "./payload_pool.ts";
import { openEngineState } from "./engine_open.ts";

/** Freeze states of §5.6 (CANCELING is internal to the driver and not modelled). */
export type FreezeState = "melted" | "frozen" | "frozen-timeout" | "frozen-deep";

/** A committed pack waiting for its data to reach the ddev. */
interface AppliedPack {
  lsid: bigint;
  nextLsid: bigint;
  dataIos: DataIo[];
}

/** Options of the engine's internal waits. */
interface WaitOptions {
  operation: string;
  /** Flush the ldev when log is not yet durable (so `written` can advance). */
  forceLogFlush?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What `open` hands the constructor. */
export interface EngineInit {
  ldev: BlockDevice;
  ddev: BlockDevice;
  superInit: SuperSectorInit;
  lsids: MutableLsidSet;
  overflow: boolean;
}

/**
 * A userland WalB device over an ldev and a ddev.
 *
 * @example
 * ```ts
 * import { MemoryDevice } from "../block/memory_device.ts";
 * import { ManualClock } from "../../testing/clock.ts";
 * import { formatLdev, WalbEngine } from "./mod.ts";
 * const ldev = new MemoryDevice({ sizeBytes: 1 << 20 });
 * const ddev = new MemoryDevice({ sizeBytes: 1 << 22 });
 * await formatLdev(ldev, ddev, { name: "vol0" });
 * const engine = await WalbEngine.open(ldev, ddev, { clock: new ManualClock() });
 * await engine.write(4096, new Uint8Array(4096).fill(1));
 * await engine.flush();
 * if (engine.lsids().permanent !== 9n) throw new Error("one pack of 1 + 8 pb");
 * await engine.stop();
 * ```
 */
export class WalbEngine {
  readonly #ldev: BlockDevice;
  readonly #ddev: BlockDevice;
  readonly #clock: EngineClock;
  readonly #random: RandomFill;
  readonly #onEvent: (event: WalbEngineEvent) => void;
  readonly #options: ResolvedEngineOptions;
  #superInit: SuperSectorInit;
  #ring: LdevRing;
  #lsids: MutableLsidSet;
  #overflow: boolean;
  #queue: QueuedRequest[] = [];
  #applyQueue: AppliedPack[] = [];
  #pending = new PendingData();
  readonly #payloads: PayloadPool;
  #signal = new ChangeSignal();
  #logFlushes = new SerialQueue();
  #superSyncs = new SerialQueue();
  #batchRunning = false;
  /** Batches planned whose log write and acknowledgement have not finished. */
  #batchesInFlight = 0;
  /** Settles once every batch planned so far is logged and acknowledged (never rejects). */
  #batchTail: Promise<void> = Promise.resolve();
  #freezeState: FreezeState = "melted";
  #meltTimer: AbortController | undefined;
  #checkpointIntervalMs: number;
  #checkpointTimer: AbortController | undefined;
  #stopTimers = new AbortController();
  #state: "running" | "stopping" | "stopped" = "running";
  #stopping: Promise<void> | undefined;
  #failure: unknown = undefined;
  #failed = false;
  #tasks = new Set<Promise<void>>();

  private constructor(init: EngineInit, options: WalbEngineOptions) {
    this.#ldev = init.ldev;
    this.#ddev = init.ddev;
    this.#clock = options.clock;
    this.#random = options.random ?? cryptoRandom;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#payloads = options.payloadPool ??
      new PayloadPool({ bytesMax: WALB_ENGINE_LIMITS.payloadPoolBytesMax });
    this.#options = resolveEngineOptions(options, init.superInit.pbs);
    this.#superInit = init.superInit;
    this.#ring = new LdevRing(init.ldev, init.superInit);
    this.#lsids = init.lsids;
    this.#overflow = init.overflow;
    this.#checkpointIntervalMs = this.#options.checkpointIntervalMs;
    checkLsidInvariants(this.#lsids);
  }

  /**
   * Assembles a device (§5.8): validates the super, checks it is writable, redoes the log
   * from written_lsid, persists the new lsids, detects overflow, starts the background tasks.
   *
   * @param ldev the log device (formatted with {@link formatLdev})
   * @param ddev the data device (at least device_size)
   * @param options clock, limits, name, overflow policy
   * @throws {CorruptDataError} when the super is not a valid WalB super sector
   * @throws {WalbEngineError} EINVAL when the pbs differ, the ddev is too small, the name is
   *   too long or an option is out of range
   */
  static async open(
    ldev: BlockDevice,
    ddev: BlockDevice,
    options: WalbEngineOptions,
  ): Promise<WalbEngine> {
    resolveEngineOptions(options, ldev.physicalBlockSize);
    const init = await openEngineState(ldev, ddev, options);
    const engine = new WalbEngine(init, options);
    await engine.#syncSuper();
    engine.#start();
    return engine;
  }

  // ---------------------------------------------------------------- information

  /** A copy of the lsid set (§5.1). */
  lsids(): LsidSet {
    return { ...this.#lsids };
  }
  /** The lsid set as the driver's sysfs `lsids` text (§6.5). */
  lsidsText(): string {
    return formatLsids(this.#lsids);
  }
  /** latest − oldest [pb]. */
  get logUsage(): bigint {
    return this.#lsids.latest - this.#lsids.oldest;
  }
  /** ring_buffer_size [pb]. */
  get logCapacity(): bigint {
    return this.#superInit.ringBufferSize;
  }
  /** True once the log overflowed (cleared only by {@link resetWal}). */
  get isOverflow(): boolean {
    return this.#overflow;
  }
  /** True unless melted (§5.6 IS_FROZEN). */
  get isFrozen(): boolean {
    return this.#freezeState !== "melted";
  }
  /** The freeze state. */
  get freezeState(): FreezeState {
    return this.#freezeState;
  }
  /** True after an I/O error: writes and super syncs fail. */
  get isReadOnly(): boolean {
    return this.#failed;
  }
  /** The device name (persisted at each super sync). */
  get name(): string {
    return this.#superInit.name;
  }
  /** Physical block size of both devices. */
  get pbs(): number {
    return this.#superInit.pbs;
  }
  /** The current log checksum salt. */
  get salt(): number {
    return this.#superInit.salt;
  }
  /** A copy of the current log uuid. */
  get uuid(): Uint8Array {
    return this.#superInit.uuid.slice();
  }
  /** Size of the WalB device [lb]. */
  get deviceSizeLb(): bigint {
    return this.#superInit.deviceSize;
  }
  /** Size of the WalB device [bytes]. */
  get sizeBytes(): number {
    return Number(this.#superInit.deviceSize) * LOGICAL_BLOCK_SIZE;
  }
  /** The raw ldev (the wldev equivalent, §9 item 12): read it, never write it. */
  get wldev(): BlockDevice {
    return this.#ldev;
  }
  /** Bytes of logged data not yet on the ddev. */
  get pendingBytes(): number {
    return this.#pending.bytes;
  }
  /** The periodic checkpoint interval [ms] (0 = disabled). */
  getCheckpointInterval(): number {
    return this.#checkpointIntervalMs;
  }

  // ---------------------------------------------------------------- block IO

  /**
   * A buffer for the payload of a write of `lengthBytes`, or undefined for a small write (the
   * caller uses its own): page-aligned pooled memory the engine logs in place. Fill it and
   * pass it to {@link write} once; from then on the engine owns it (the caller never touches
   * it again, and the engine reuses it once the data is on the ddev). A buffer never passed
   * to {@link write} is left to the garbage collector.
   */
  takeWriteBuffer(lengthBytes: number): Uint8Array | undefined {
    if (lengthBytes < WALB_ENGINE_LIMITS.lentPayloadSizeMin) return undefined;
    if (lengthBytes > WALB_ENGINE_LIMITS.ioSizeBytesMax) return undefined;
    return this.#payloads.take(lengthBytes);
  }

  /**
   * Logs a write; resolves once its log is written (and durable, with `fua`).
   *
   * @param offsetBytes multiple of 512
   * @param data whole lb; the engine copies it (it may be reused once the promise settles),
   *   unless it came from {@link takeWriteBuffer}: then the engine keeps it
   * @throws {WalbEngineError} EINVAL out of range or misaligned, ENOSPC when the log would
   *   overflow and `errorBeforeOverflow` is set, EROFS after an I/O error, ESHUTDOWN when stopping
   */
  write(offsetBytes: number, data: Uint8Array, options: { fua?: boolean } = {}): Promise<void> {
    const lease = this.#payloads.adopt(data) ?? null;
    return this.#submitIo("write", offsetBytes, data.length, data, options.fua ?? false, lease);
  }

  /** Logs a discard (a DISCARD record; the ddev range is discarded and reads as zeros). */
  discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#submitIo("discard", offsetBytes, lengthBytes, null, false, null);
  }

  /**
   * Makes every write acknowledged before this call durable in the log: after the writes
   * queued before it are logged, the ldev is flushed and `permanent := completed` (§9 item 7).
   */
  flush(): Promise<void> {
    const refused = this.#writeRefusal("flush");
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      const request: FlushRequest = { kind: "flush", settled: false, resolve, reject };
      this.#queue.push(request);
      this.#signal.notify();
    });
  }

  /**
   * Reads the WalB device: the ddev overlaid with logged data not yet applied (§9 item 11).
   *
   * @throws {WalbEngineError} EINVAL out of range or misaligned, ESHUTDOWN once stopped
   */
  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const target = new Uint8Array(lengthBytes);
    await this.readInto(offsetBytes, target);
    return target;
  }

  /**
   * Like {@link read}, into `target` (its length is the read length): the NBD server reads
   * straight into its reply buffer.
   *
   * @throws {WalbEngineError} EINVAL out of range or misaligned, ESHUTDOWN once stopped
   */
  async readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    const lengthBytes = target.length;
    this.#checkRange("read", offsetBytes, lengthBytes);
    if (this.#state === "stopped") {
      throw new WalbEngineError("read", "ESHUTDOWN", "the engine is stopped");
    }
    const overlays = this.#pending.overlapping(offsetBytes, lengthBytes);
    // Lent payloads laid over after the await stay held: applied meanwhile, they must not be
    // reused for a new write before this read has copied them.
    for (const io of overlays) io.lease?.retain();
    try {
      const chunk = WALB_ENGINE_LIMITS.ioSizeBytesMax - WALB_ENGINE_LIMITS.ioSizeBytesMax % 4096;
      for (let position = 0; position < lengthBytes; position += chunk) {
        const end = Math.min(lengthBytes, position + chunk);
        await this.#ddev.readInto(offsetBytes + position, target.subarray(position, end));
      }
      PendingData.overlay(overlays, offsetBytes, target);
    } finally {
      for (const io of overlays) io.lease?.release();
    }
  }

  /**
   * Like {@link readInto}, synchronously, when the ddev has the data at hand (page cache,
   * memory): true when `target` holds the device's bytes. False promises nothing: then
   * {@link readInto} does the read and reports any error.
   */
  tryReadIntoSync(offsetBytes: number, target: Uint8Array): boolean {
    const ddev = this.#ddev;
    if (ddev.tryReadIntoSync === undefined || this.#state === "stopped") return false;
    const lengthBytes = target.length;
    if (
      offsetBytes % LOGICAL_BLOCK_SIZE !== 0 || lengthBytes % LOGICAL_BLOCK_SIZE !== 0 ||
      offsetBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes
    ) {
      return false;
    }
    // One turn of the event loop: no pending IO can be removed between the read and the
    // overlay (an apply in flight is still pending, so its bytes are laid over).
    if (!ddev.tryReadIntoSync(offsetBytes, target)) return false;
    if (this.#pending.ioCount > 0) {
      PendingData.overlay(this.#pending.overlapping(offsetBytes, lengthBytes), offsetBytes, target);
    }
    return true;
  }

  /**
   * Waits until `permanent > afterLsid` (new durable log), the change notification of §9
   * item 6.
   *
   * @returns true when it happened, false on timeout
   */
  async waitForPermanent(
    afterLsid: bigint,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const options: WaitOptions = { operation: "wait for permanent lsid", timeoutMs };
    if (signal !== undefined) options.signal = signal;
    return await this.#wait(() => this.#lsids.permanent > afterLsid, options);
  }

  // ---------------------------------------------------------------- control

  /**
   * SET_OLDEST_LSID (§5.3): `oldest ≤ lsid ≤ prev_written`, and a pack boundary when below
   * `permanent`; then the super is synced at once.
   *
   * @throws {WalbEngineError} EFAULT when out of range or not at a pack boundary (nothing changes)
   */
  async setOldestLsid(lsid: bigint): Promise<void> {
    const operation = `set oldest lsid to ${lsid}`;
    this.#checkWritable(operation);
    const { oldest, prevWritten, permanent } = this.#lsids;
    if (lsid < oldest || lsid > prevWritten) {
      throw new WalbEngineError(
        operation,
        "EFAULT",
        `it is outside [oldest ${oldest}, prev_written ${prevWritten}]`,
      );
    }
    if (lsid < permanent) {
      const head = await readLogpackHeaderAt(this.#ring, lsid, this.#superInit.salt);
      if ("problem" in head) {
        throw new WalbEngineError(operation, "EFAULT", `no logpack starts there: ${head.problem}`);
      }
    }
    if (lsid < this.#lsids.oldest) {
      throw new WalbEngineError(operation, "EFAULT", "oldest moved meanwhile");
    }
    this.#lsids.oldest = lsid;
    this.#checkLsids();
    await this.#syncSuper();
  }

  /** TAKE_CHECKPOINT (§5.4): stop the periodic checkpoint, checkpoint now, restart it. */
  async checkpoint(): Promise<void> {
    this.#checkWritable("take checkpoint");
    this.#stopCheckpointing();
    try {
      await this.#checkpointOnce();
    } finally {
      if (this.#freezeState === "melted" && this.#state === "running") this.#startCheckpointing();
    }
  }

  /**
   * SET_CHECKPOINT_INTERVAL: 0 disables periodic checkpoints; restarts the timer.
   *
   * @throws {WalbEngineError} EINVAL when not in [0, 86400000]
   */
  setCheckpointInterval(intervalMs: number): void {
    checkCheckpointInterval(intervalMs, "set checkpoint interval");
    this.#checkpointIntervalMs = intervalMs;
    if (this.#freezeState === "melted" && this.#state === "running") this.#startCheckpointing();
  }

  /**
   * FREEZE (§5.6): new writes queue in memory; resolves once started writes are on the ddev
   * (`written == latest`). With `timeoutSec > 0` (clipped to a day) it melts by itself.
   *
   * @throws {WalbEngineError} EFAULT while reset-wal runs (deep frozen)
   */
  async freeze(timeoutSec = 0): Promise<void> {
    const operation = "freeze";
    if (this.#freezeState === "frozen-deep") {
      throw new WalbEngineError(operation, "EFAULT", "the device is frozen by reset-wal");
    }
    this.#checkRunning(operation);
    this.#cancelMeltTimer();
    if (this.#freezeState === "melted") {
      this.#freezeState = "frozen";
      this.#stopCheckpointing();
      await this.#drain(operation);
    }
    const seconds = Math.min(Math.max(0, Math.floor(timeoutSec)), 86_400);
    if (seconds > 0) {
      this.#freezeState = "frozen-timeout";
      const timer = new AbortController();
      this.#meltTimer = timer;
      this.#track(
        this.#clock.sleep(seconds * 1000, timer.signal).then(
          () => {
            if (this.#meltTimer === timer) this.melt();
          },
          () => {/* cancelled by melt or a new freeze */},
        ),
      );
    }
  }

  /**
   * MELT (§5.6): resumes queued writes and checkpointing; no effect when melted.
   *
   * @throws {WalbEngineError} EFAULT while reset-wal runs
   */
  melt(): void {
    if (this.#freezeState === "frozen-deep") {
      throw new WalbEngineError("melt", "EFAULT", "the device is frozen by reset-wal");
    }
    this.#cancelMeltTimer();
    if (this.#freezeState === "melted") return;
    this.#freezeState = "melted";
    if (this.#state === "running") this.#startCheckpointing();
    this.#signal.notify();
  }

  /**
   * RESIZE (§5.7): grow the device to `newSizeLb` (0 = the ddev size) and sync the super.
   * The ddev's size is read again first (the driver sees a grown ddev at once), so growing
   * the ddev file or volume and then resizing works without a restart.
   *
   * @throws {WalbEngineError} EFAULT when shrinking or past the ddev size
   */
  async resize(newSizeLb: bigint): Promise<void> {
    const operation = `resize to ${newSizeLb} lb`;
    this.#checkWritable(operation);
    await this.#ddev.refreshSize?.();
    const ddevLb = BigInt(Math.floor(this.#ddev.sizeBytes / LOGICAL_BLOCK_SIZE));
    const target = newSizeLb === 0n ? ddevLb : newSizeLb;
    const current = this.#superInit.deviceSize;
    if (target < current) {
      throw new WalbEngineError(operation, "EFAULT", `shrinking from ${current} lb`);
    }
    if (target > ddevLb) {
      throw new WalbEngineError(operation, "EFAULT", `the ddev has only ${ddevLb} lb`);
    }
    if (target === current) return;
    this.#superInit = { ...this.#superInit, deviceSize: target };
    await this.#syncSuper();
  }

  /**
   * CLEAR_LOG (reset-wal, §5.7): deep-freeze, drain, new salt and uuid, lsids 0, the ring
   * recomputed when the ldev grew, super synced, lsid 0 invalidated, overflow cleared, melt.
   * All logs are lost.
   *
   * @throws {WalbEngineError} EBUSY when frozen, EFAULT when the ldev shrank
   */
  async resetWal(): Promise<void> {
    const operation = "reset the WAL";
    this.#checkWritable(operation);
    if (this.#freezeState !== "melted") {
      throw new WalbEngineError(operation, "EBUSY", "the device is frozen");
    }
    this.#freezeState = "frozen-deep";
    this.#stopCheckpointing();
    const saved = {
      lsids: { ...this.#lsids },
      superInit: this.#superInit,
      ring: this.#ring,
    };
    try {
      await this.#drain(operation);
      await this.#logFlushes.run(() => Promise.resolve());
      const ldevLb = BigInt(Math.floor(this.#ldev.sizeBytes / LOGICAL_BLOCK_SIZE));
      const ringBufferSize = formatLdevSuper({
        ldevLb,
        ddevLb: 0n,
        pbs: this.#superInit.pbs,
        salt: 0,
        uuid: new Uint8Array(16),
      }).ringBufferSize;
      if (ringBufferSize < this.#superInit.ringBufferSize) {
        throw new WalbEngineError(operation, "EFAULT", `the ldev shrank to ${ldevLb} lb`);
      }
      const { salt, uuid } = randomSaltAndUuid(this.#random);
      this.#superInit = { ...this.#superInit, salt, uuid, ringBufferSize, metadataSize: 0 };
      this.#ring = new LdevRing(this.#ldev, this.#superInit);
      for (const key of Object.keys(this.#lsids) as (keyof MutableLsidSet)[]) {
        this.#lsids[key] = 0n;
      }
      assert(this.#applyQueue.length === 0, "reset-wal runs with no pending data");
      this.#pending.clear();
      await this.#syncSuper();
      await this.#ring.write(0n, new Uint8Array(this.#superInit.pbs));
      await this.#ldev.flush();
      this.#overflow = false;
    } catch (error) {
      this.#lsids = saved.lsids;
      this.#superInit = saved.superInit;
      this.#ring = saved.ring;
      throw error;
    } finally {
      this.#freezeState = "melted";
      if (this.#state === "running") this.#startCheckpointing();
      this.#signal.notify();
    }
  }

  /**
   * wdevc clear-wal: wait until `written ≥ permanent` (as of the call), checkpoint, then
   * set the oldest lsid there: every log written so far is deleted.
   *
   * @param timeoutMs 0 waits forever
   * @throws {WalbEngineError} ETIMEDOUT when the data did not reach the ddev in time
   */
  async clearWal(timeoutMs = 0): Promise<void> {
    const operation = "clear the WAL";
    this.#checkWritable(operation);
    const target = this.#lsids.permanent;
    const options: WaitOptions = { operation, forceLogFlush: true };
    if (timeoutMs > 0) options.timeoutMs = timeoutMs;
    if (!(await this.#wait(() => this.#lsids.written >= target, options))) {
      throw new WalbEngineError(operation, "ETIMEDOUT", `written did not reach ${target}`);
    }
    await this.checkpoint();
    await this.setOldestLsid(target);
  }

  /**
   * STOP_DEV (§5.9): refuse new IO, melt, wait for all IO, `written := latest`, sync the
   * super, stop the background tasks. The devices stay open (the caller owns them).
   *
   * @throws the I/O error that made the engine read-only, after shutting down
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Stops at once without a clean stop, as a crash would: queued IO fails, the background
   * tasks end, nothing more is written. For tests and for giving up after fatal errors.
   */
  async abandon(): Promise<void> {
    this.#state = "stopped";
    this.#rejectQueue(new WalbEngineError("write", "ESHUTDOWN", "the engine was abandoned"));
    this.#stopTimers.abort();
    this.#stopCheckpointing();
    this.#cancelMeltTimer();
    this.#signal.notify();
    await this.#settleTasks();
  }

  // ---------------------------------------------------------------- internals: submit

  #submitIo(
    kind: "write" | "discard",
    offsetBytes: number,
    lengthBytes: number,
    data: Uint8Array | null,
    fua: boolean,
    lease: PayloadLease | null,
  ): Promise<void> {
    try {
      this.#checkRange(kind, offsetBytes, lengthBytes);
    } catch (error) {
      lease?.release();
      return Promise.reject(error);
    }
    const refused = this.#writeRefusal(kind);
    if (refused !== undefined) {
      lease?.release();
      return Promise.reject(refused);
    }
    if (lengthBytes === 0) {
      lease?.release();
      return fua ? this.flush() : Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const request: IoRequest = {
        kind,
        offsetLb: offsetBytes / LOGICAL_BLOCK_SIZE,
        sizeLb: lengthBytes / LOGICAL_BLOCK_SIZE,
        data,
        lease,
        fua,
        cursorLb: 0,
        settled: false,
        resolve,
        reject,
      };
      this.#queue.push(request);
      this.#signal.notify();
    });
  }

  #checkRange(operation: string, offsetBytes: number, lengthBytes: number): void {
    const fail = (detail: string): never => {
      throw new WalbEngineError(
        `${operation} at offset ${offsetBytes} length ${lengthBytes}`,
        "EINVAL",
        detail,
      );
    };
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0) fail("bad offset");
    if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0) fail("bad length");
    if (offsetBytes % LOGICAL_BLOCK_SIZE !== 0 || lengthBytes % LOGICAL_BLOCK_SIZE !== 0) {
      fail("offset and length must be multiples of 512");
    }
    if (offsetBytes + lengthBytes > this.sizeBytes) {
      fail(`range ends past the device size ${this.sizeBytes}`);
    }
  }

  #writeRefusal(operation: string): WalbEngineError | undefined {
    if (this.#state !== "running") {
      return new WalbEngineError(operation, "ESHUTDOWN", "the engine is stopping");
    }
    if (this.#failed) {
      return new WalbEngineError(operation, "EROFS", "the device is read-only after an I/O error", {
        cause: this.#failure,
      });
    }
    return undefined;
  }

  #checkWritable(operation: string): void {
    const refused = this.#writeRefusal(operation);
    if (refused !== undefined) throw refused;
  }

  #checkRunning(operation: string): void {
    if (this.#state !== "running") {
      throw new WalbEngineError(operation, "ESHUTDOWN", "the engine is stopping");
    }
  }

  // ---------------------------------------------------------------- internals: log writer

  async #writerLoop(): Promise<void> {
    for (;;) {
      if (this.#state === "stopped" || this.#failed) return;
      if (this.#queue.length === 0 || this.#freezeState !== "melted") {
        await this.#signal.changed();
        continue;
      }
      if (
        this.#batchesInFlight >= WALB_ENGINE_LIMITS.batchesInFlightMax ||
        (this.#batchesInFlight > 0 && this.#queuedBytes() < WALB_ENGINE_LIMITS.pipelineBytesMin)
      ) {
        await this.#signal.changed();
        continue;
      }
      this.#batchRunning = true;
      try {
        await this.#runBatch();
      } catch (error) {
        this.#fail(error);
      } finally {
        this.#batchRunning = false;
        this.#signal.notify();
      }
    }
  }

  /** Write payload still to plan in the queue [bytes] (stops counting at the pipeline bound). */
  #queuedBytes(): number {
    let bytes = 0;
    for (const request of this.#queue) {
      if (request.kind !== "write") continue;
      bytes += (request.sizeLb - request.cursorLb) * LOGICAL_BLOCK_SIZE;
      if (bytes >= WALB_ENGINE_LIMITS.pipelineBytesMin) break;
    }
    return bytes;
  }

  /** True while a batch is being planned or any batch's log write is unacknowledged. */
  get #batchesBusy(): boolean {
    return this.#batchRunning || this.#batchesInFlight > 0;
  }

  /**
   * Plans, admits and commits packs from the queue (lsids are assigned here, in order), then
   * starts their log write and returns without waiting for it: {@link #finishBatch} runs
   * after the previous batch's, so `completed` and the acknowledgements follow lsid order.
   */
  async #runBatch(): Promise<void> {
    const packs: PlannedPack[] = [];
    const settled: QueuedRequest[] = [];
    let fua = false;
    try {
      while (packs.length < WALB_ENGINE_LIMITS.packsPerBatchMax) {
        while (this.#queue[0]?.kind === "flush") settled.push(this.#queue.shift()!);
        const plan = planPack(this.#queue, this.#lsids.latest, {
          pbs: this.#superInit.pbs,
          salt: this.#superInit.salt,
          ringBufferSize: this.#superInit.ringBufferSize,
          maxLogpackPb: this.#options.maxLogpackPb,
          runPool: this.#payloads,
        });
        if (plan === undefined) {
          assert(this.#queue.length === 0, "every queued IO can be planned");
          break;
        }
        const verdict = this.#admit(plan);
        // A plan not committed is planned again later: its copied runs go back now.
        if (verdict !== "ok") releaseRuns(plan);
        if (verdict === "overflow") {
          this.#rejectOverflowing(plan);
          continue;
        }
        if (verdict === "wait") {
          if (packs.length > 0 || settled.length > 0) break;
          await this.#batchTail; // room is made with every earlier pack logged
          if (this.#failed) return;
          await this.#makeRoom(plan);
          continue;
        }
        fua ||= plan.pieces.some((piece) => piece.request.fua);
        this.#commit(plan, settled);
        packs.push(plan);
      }
    } catch (error) {
      this.#refuse(settled, error);
      throw error;
    }
    if (packs.length === 0 && settled.length === 0) return;
    const write = packs.length === 0 ? Promise.resolve() : this.#writeRuns(packs);
    write.catch(() => {/* handled in order by #finishBatch */});
    const previous = this.#batchTail;
    this.#batchesInFlight++;
    this.#batchTail = this.#finishBatch(previous, write, { packs, settled, fua }).finally(() => {
      this.#batchesInFlight--;
      this.#signal.notify();
    });
    this.#track(this.#batchTail); // stop and abandon wait for it
  }

  /** Writes the runs of a batch's packs, contiguous runs merged into one ldev write. */
  #writeRuns(packs: PlannedPack[]): Promise<void> {
    const pbs = BigInt(this.#superInit.pbs);
    const merged: { lsid: bigint; parts: Uint8Array[]; bytes: number }[] = [];
    for (const run of packs.flatMap((plan) => plan.runs)) {
      const bytes = run.parts.reduce((sum, part) => sum + part.length, 0);
      const last = merged[merged.length - 1];
      if (last !== undefined && last.lsid + BigInt(last.bytes) / pbs === run.lsid) {
        last.parts.push(...run.parts);
        last.bytes += bytes;
      } else {
        merged.push({ lsid: run.lsid, parts: [...run.parts], bytes });
      }
    }
    // Gather writes: the O_DIRECT ldev copies the parts straight into its bounce buffers.
    return Promise.all(merged.map(({ lsid, parts }) => this.#ring.writeGather(lsid, parts)))
      .then(() => {});
  }

  /**
   * After the previous batch: waits for this batch's log write, advances `completed`,
   * flushes the ldev when asked (FUA, a flush request, the flush interval) and acknowledges.
   * Never rejects: an I/O error turns the engine read-only and refuses the batch's requests.
   */
  async #finishBatch(
    previous: Promise<void>,
    write: Promise<void>,
    batch: { packs: PlannedPack[]; settled: QueuedRequest[]; fua: boolean },
  ): Promise<void> {
    const { packs, settled, fua } = batch;
    await previous;
    try {
      await write;
      // The log write is done with the copied runs (records still hold what they view).
      for (const plan of packs) releaseRuns(plan);
      if (this.#failed) {
        throw new WalbEngineError("log the write", "EROFS", "the device is read-only", {
          cause: this.#failure,
        });
      }
      if (packs.length > 0) {
        const next = packs[packs.length - 1]!.pack.nextLsid;
        assert(packs[0]!.pack.header.logpackLsid === this.#lsids.completed, "completed in order");
        this.#lsids.completed = next;
        this.#checkLsids();
        this.#signal.notify();
      }
      const needFlush = fua || settled.some((request) => request.kind === "flush") ||
        (this.#options.logFlushIntervalPb > 0n &&
          this.#lsids.completed - this.#lsids.flush > this.#options.logFlushIntervalPb);
      if (needFlush) await this.#flushLog();
    } catch (error) {
      this.#refuse(settled, error);
      this.#fail(error);
      return;
    }
    for (const request of settled) settle(request);
  }

  /** Refuses a batch's requests after an I/O error (EROFS with the error as cause). */
  #refuse(settled: QueuedRequest[], error: unknown): void {
    const refusal = new WalbEngineError("log the write", "EROFS", "an I/O error hit the log", {
      cause: error,
    });
    for (const request of settled) settle(request, refusal);
  }

  /** "ok", "wait" (no room: prev_written rule or pending limit) or "overflow" (refuse). */
  #admit(plan: PlannedPack): "ok" | "wait" | "overflow" {
    const next = plan.pack.nextLsid;
    const ring = this.#superInit.ringBufferSize;
    if (this.#options.errorBeforeOverflow && next - this.#lsids.oldest > ring) return "overflow";
    if (next - this.#lsids.prevWritten > ring) return "wait";
    const pending = this.#pending.bytes;
    if (pending > 0 && pending + plan.payloadBytes > this.#options.maxPendingBytes) return "wait";
    return "ok";
  }

  /** Waits (with every earlier pack logged) until `plan` can be admitted (§5.2 step 4). */
  async #makeRoom(plan: PlannedPack): Promise<void> {
    const operation = "make room in the log";
    const ring = this.#superInit.ringBufferSize;
    const next = plan.pack.nextLsid;
    assert(this.#lsids.completed === this.#lsids.latest, "room is made with no pack in flight");
    if (next - this.#lsids.prevWritten > ring) {
      if (next - this.#lsids.written > ring) {
        await this.#wait(() => next - this.#lsids.written <= ring, {
          operation,
          forceLogFlush: true,
        });
      }
      await this.#syncSuper();
      return;
    }
    const { maxPendingBytes, minPendingBytes } = this.#options;
    const limit = Math.min(minPendingBytes, Math.max(0, maxPendingBytes - plan.payloadBytes));
    await this.#wait(() => this.#pending.bytes <= limit, { operation, forceLogFlush: true });
  }

  /** errorBeforeOverflow: fail the last request of the pack that would overflow. */
  #rejectOverflowing(plan: PlannedPack): void {
    const request = plan.pieces[plan.pieces.length - 1]!.request;
    const { oldest } = this.#lsids;
    settle(
      request,
      new WalbEngineError(
        request.kind,
        "ENOSPC",
        `the log would overflow: pack ending at lsid ${plan.pack.nextLsid} is more than ` +
          `${this.#superInit.ringBufferSize} pb past oldest ${oldest}`,
      ),
    );
    this.#queue = this.#queue.filter((queued) => queued !== request);
  }

  /** Assigns the pack its lsids; its requests advance; its data becomes pending. */
  #commit(plan: PlannedPack, settled: QueuedRequest[]): void {
    const { pack } = plan;
    assert(pack.header.logpackLsid === this.#lsids.latest, "packs are contiguous");
    assert(pack.header.nRecords > 0, "never an empty pack");
    this.#lsids.latest = pack.nextLsid;
    const ring = this.#superInit.ringBufferSize;
    assert(this.#lsids.latest - this.#lsids.prevWritten <= ring, "redo log is never overwritten");
    if (!this.#overflow && this.#lsids.latest - this.#lsids.oldest > ring) {
      this.#overflow = true;
      this.#onEvent({ kind: "overflow", lsids: this.lsids(), ringBufferSize: ring });
    }
    for (const piece of plan.pieces) {
      assert(piece.request.cursorLb === piece.startLb, "pieces are committed in order");
      piece.request.cursorLb = piece.startLb + piece.sizeLb;
    }
    while (true) {
      const head = this.#queue[0];
      if (head === undefined || head.kind === "flush" || head.cursorLb < head.sizeLb) break;
      settled.push(this.#queue.shift()!);
    }
    // Each record holds its lent payload until it is on the ddev.
    for (const io of plan.dataIos) io.lease?.retain();
    this.#pending.add(pack.header.logpackLsid, plan.dataIos);
    this.#applyQueue.push({
      lsid: pack.header.logpackLsid,
      nextLsid: pack.nextLsid,
      dataIos: plan.dataIos,
    });
  }

  /** Flushes the ldev; `permanent := completed` as of the start of the flush (§9 item 7). */
  #flushLog(): Promise<void> {
    const target = this.#lsids.completed;
    return this.#logFlushes.run(async () => {
      if (this.#lsids.permanent >= target) return;
      // Linux reports a writeback error to one fdatasync only: after a failed flush a later
      // one may succeed with the log lost, so nothing waiting behind it is made durable.
      if (this.#failed) {
        throw new WalbEngineError("flush the log", "EROFS", "the device is read-only", {
          cause: this.#failure,
        });
      }
      const covered = this.#lsids.completed;
      if (covered > this.#lsids.flush) this.#lsids.flush = covered;
      try {
        await this.#ldev.flush();
      } catch (error) {
        this.#fail(error);
        throw error;
      }
      if (covered > this.#lsids.permanent && covered <= this.#lsids.flush) {
        this.#lsids.permanent = covered;
        this.#checkLsids();
        this.#signal.notify();
      }
    });
  }

  // ---------------------------------------------------------------- internals: data

  async #applierLoop(): Promise<void> {
    for (;;) {
      if (this.#state === "stopped" || this.#failed) return;
      const permanent = this.#lsids.permanent;
      let count = 0;
      while (
        count < WALB_ENGINE_LIMITS.applyPacksMax &&
        (this.#applyQueue[count]?.nextLsid ?? permanent + 1n) <= permanent
      ) count++;
      if (count === 0) {
        await this.#signal.changed();
        continue;
      }
      // Durable packs only (permanent covers each): their IOs in lsid order, one round.
      const packs = this.#applyQueue.slice(0, count);
      try {
        await applyDataIos(this.#ddev, packs.flatMap((pack) => pack.dataIos), {
          slice: { sliceMs: WALB_ENGINE_LIMITS.applySliceMs, pause: yieldToEventLoop },
        });
      } catch (error) {
        this.#fail(error);
        return;
      }
      for (const pack of packs) {
        assert(this.#applyQueue.shift() === pack, "packs are applied in order");
        this.#pending.remove(pack.lsid);
        for (const io of pack.dataIos) io.lease?.release();
      }
      this.#lsids.written = packs[packs.length - 1]!.nextLsid;
      this.#checkLsids();
      this.#signal.notify();
      // Small ddev writes finish on this thread: let sockets and the log writer run before
      // the next round.
      if (this.#applyQueue.length > 0) await yieldToEventLoop();
    }
  }

  async #logFlushLoop(signal: AbortSignal): Promise<void> {
    const intervalMs = this.#options.logFlushIntervalMs;
    if (intervalMs === 0) return;
    for (;;) {
      if (!(await this.#sleep(intervalMs, signal))) return;
      if (this.#failed) return;
      if (this.#lsids.completed > this.#lsids.permanent) {
        try {
          await this.#flushLog();
        } catch (error) {
          this.#fail(error);
          return;
        }
      }
    }
  }

  // ---------------------------------------------------------------- internals: super

  /** Super sync (§5.4): fdatasync(ddev), write super, fdatasync(ldev); prev_written advances. */
  #syncSuper(): Promise<void> {
    return this.#superSyncs.run(async () => {
      if (this.#failed) {
        throw new WalbEngineError("sync the super sector", "EROFS", "the device is read-only", {
          cause: this.#failure,
        });
      }
      const written = this.#lsids.written;
      const oldest = this.#lsids.oldest;
      const superInit = this.#superInit;
      try {
        await this.#ddev.flush();
        await writeSuperSector(this.#ldev, {
          ...superInit,
          oldestLsid: oldest,
          writtenLsid: written,
        });
        await this.#ldev.flush();
      } catch (error) {
        this.#fail(error);
        throw error;
      }
      if (written > this.#lsids.prevWritten) {
        this.#lsids.prevWritten = written;
      }
      this.#checkLsids();
      this.#signal.notify();
    });
  }

  async #checkpointOnce(): Promise<void> {
    if (this.#lsids.written === this.#lsids.prevWritten) return;
    await this.#syncSuper();
  }

  #startCheckpointing(): void {
    this.#stopCheckpointing();
    if (this.#checkpointIntervalMs === 0) return;
    const timer = new AbortController();
    this.#checkpointTimer = timer;
    this.#track(this.#checkpointLoop(this.#checkpointIntervalMs, timer.signal));
  }

  #stopCheckpointing(): void {
    this.#checkpointTimer?.abort();
    this.#checkpointTimer = undefined;
  }

  async #checkpointLoop(intervalMs: number, signal: AbortSignal): Promise<void> {
    let delayMs = intervalMs;
    for (;;) {
      if (!(await this.#sleep(delayMs, signal))) return;
      if (this.#failed || this.#state !== "running") return;
      const startMs = this.#clock.nowMs();
      try {
        await this.#checkpointOnce();
      } catch (error) {
        this.#fail(error);
        return;
      }
      delayMs = Math.max(1, intervalMs - (this.#clock.nowMs() - startMs));
    }
  }

  // ---------------------------------------------------------------- internals: lifecycle

  #start(): void {
    this.#track(this.#writerLoop());
    this.#track(this.#applierLoop());
    this.#track(this.#logFlushLoop(this.#stopTimers.signal));
    this.#startCheckpointing();
  }

  async #stop(): Promise<void> {
    const operation = "stop the device";
    if (this.#state === "stopped") return;
    this.#state = "stopping";
    this.#cancelMeltTimer();
    if (this.#freezeState === "frozen" || this.#freezeState === "frozen-timeout") {
      this.#freezeState = "melted";
    }
    this.#signal.notify();
    let failure: unknown = undefined;
    try {
      await this.#wait(() => this.#queue.length === 0 && !this.#batchesBusy, { operation });
      await this.#drain(operation);
      this.#stopCheckpointing();
      assert(this.#lsids.written === this.#lsids.latest, "written == latest at stop");
      await this.#syncSuper();
    } catch (error) {
      failure = error;
    }
    this.#state = "stopped";
    this.#rejectQueue(new WalbEngineError("write", "ESHUTDOWN", "the engine stopped"));
    this.#stopTimers.abort();
    this.#stopCheckpointing();
    this.#signal.notify();
    await this.#settleTasks();
    if (failure !== undefined) throw failure;
  }

  /** Waits until no batch runs and every logged pack is on the ddev (`written == latest`). */
  async #drain(operation: string): Promise<void> {
    await this.#wait(() => !this.#batchesBusy, { operation });
    await this.#wait(() => this.#lsids.written === this.#lsids.latest, {
      operation,
      forceLogFlush: true,
    });
  }

  /** Turns the engine read-only after an I/O error (§5.2 "read-only mode"). */
  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#onEvent({ kind: "read-only", error });
    this.#rejectQueue(
      new WalbEngineError("write", "EROFS", "the device turned read-only after an I/O error", {
        cause: error,
      }),
    );
    this.#signal.notify();
  }

  #rejectQueue(error: unknown): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const request of queue) settle(request, error);
  }

  #cancelMeltTimer(): void {
    this.#meltTimer?.abort();
    this.#meltTimer = undefined;
    if (this.#freezeState === "frozen-timeout") this.#freezeState = "frozen";
  }

  #checkLsids(): void {
    checkLsidInvariants(this.#lsids);
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((error) => this.#fail(error));
    this.#tasks.add(tracked);
    tracked.then(() => this.#tasks.delete(tracked));
  }

  async #settleTasks(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  /** Sleeps on the clock; false when `signal` aborted (the caller stops). */
  async #sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#clock.sleep(ms, signal);
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      throw error;
    }
  }

  /**
   * Waits until `done()` holds, re-checking at every state change.
   *
   * @returns false on timeout
   * @throws {WalbEngineError} EROFS / ESHUTDOWN when the engine fails or stops meanwhile;
   *   the signal's reason when it aborts
   */
  async #wait(done: () => boolean, options: WaitOptions): Promise<boolean> {
    const timer = new AbortController();
    let timedOut = false;
    const onAbort = () => this.#signal.notify();
    options.signal?.addEventListener("abort", onAbort);
    if (options.timeoutMs !== undefined) {
      this.#clock.sleep(options.timeoutMs, timer.signal).then(
        () => {
          timedOut = true;
          this.#signal.notify();
        },
        () => {/* the wait ended first */},
      );
    }
    try {
      for (;;) {
        if (done()) return true;
        if (timedOut) return false;
        options.signal?.throwIfAborted();
        if (this.#failed) {
          throw new WalbEngineError(options.operation, "EROFS", "the device is read-only", {
            cause: this.#failure,
          });
        }
        if (this.#state === "stopped") {
          throw new WalbEngineError(options.operation, "ESHUTDOWN", "the engine stopped");
        }
        if (options.forceLogFlush && this.#lsids.permanent < this.#lsids.completed) {
          await this.#flushLog();
          continue;
        }
        await this.#signal.changed();
      }
    } finally {
      timer.abort();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Drops the planner's holds on a plan's copied runs. */
function releaseRuns(plan: PlannedPack): void {
  for (const run of plan.runs) run.lease?.release();
}

/** Resolves or rejects a request once. */
function settle(request: QueuedRequest, error?: unknown): void {
  if (request.settled) return;
  request.settled = true;
  // The request's own hold on a lent payload (its committed records hold theirs).
  if (request.kind !== "flush") request.lease?.release();
  if (error === undefined) request.resolve();
  else request.reject(error);
}

/**
 * Resolves after the event loop has had a turn (sockets and timers run): a message through a
 * MessageChannel takes ~15 µs, where `setTimeout(0)` takes ~1-4 ms.
 */
function yieldToEventLoop(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<void>((resolve) => {
    port2.onmessage = () => resolve();
    port1.postMessage(null);
  }).finally(() => {
    port1.close();
    port2.close();
  });
}
