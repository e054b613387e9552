/**
 * Write payload buffers the engine lends and takes back: the NBD server reads a big WRITE's
 * payload straight into a page-aligned buffer from here and hands it to the engine, which
 * writes it to the O_DIRECT ldev in place (no copy into a pack buffer), keeps it as pending
 * data for reads and the ddev, and returns it to the pool once nothing refers to it.
 *
 * A buffer is held (counted) by the write request until it settles, by each of its records
 * from commit until its data is on the ddev, and by each read that lays it over its result.
 * It goes back to the free list only when the count reaches zero; a buffer whose holder is
 * dropped (an engine that failed, a connection that ended mid-payload) is simply garbage.
 *
 * The log runs into which small writes are copied come from the same pool ({@link takeHeld}):
 * held by the log writer until the ldev write completed and by each record viewing the copy
 * until it is on the ddev. Fresh runs per pack cost 4 KiB random writes at QD 32 ~25 % more
 * CPU (allocation, zeroing, garbage collection).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { alignedBytes } from "../../../ffi/libc.ts";

/** Memory alignment and size granule of pooled buffers [bytes] (a page). */
const PAGE_SIZE = 4096;

/**
 * The hold count of one lent buffer. {@link retain} and {@link release} pair up; the last
 * release returns the buffer to its pool.
 */
export class PayloadLease {
  #holds = 1;
  readonly #giveBack: (whole: Uint8Array) => void;

  constructor(
    /** The whole pooled buffer (the lent view starts at its byte 0). */
    readonly whole: Uint8Array,
    giveBack: (whole: Uint8Array) => void,
  ) {
    this.#giveBack = giveBack;
  }

  /** Current hold count (0 once returned). */
  get holds(): number {
    return this.#holds;
  }

  /** Adds a holder. */
  retain(): void {
    assert(this.#holds > 0, "a returned payload buffer is never held again");
    this.#holds++;
  }

  /** Drops a holder; the last one returns the buffer to the pool. */
  release(): void {
    assert(this.#holds > 0, "a payload buffer is released once per hold");
    this.#holds--;
    if (this.#holds === 0) this.#giveBack(this.whole);
  }
}

/** Options of {@link PayloadPool}. */
export interface PayloadPoolOptions {
  /** Free bytes kept for reuse; more are left to the garbage collector. */
  bytesMax: number;
  /** Fill returned buffers with this byte (tests: a use after return reads garbage). */
  poisonByte?: number;
}

/**
 * Page-aligned buffers by size (rounded up to a page), reused once every holder let go.
 *
 * @example
 * ```ts
 * import { PayloadPool } from "./payload_pool.ts";
 * const pool = new PayloadPool({ bytesMax: 1 << 20 });
 * const payload = pool.take(65536);
 * const lease = pool.adopt(payload)!;
 * lease.release();
 * if (pool.freeBytes !== 65536) throw new Error("not returned");
 * ```
 */
export class PayloadPool {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #lent = new WeakMap<Uint8Array, PayloadLease>();
  readonly #bytesMax: number;
  readonly #poisonByte: number | undefined;
  readonly #giveBack = (whole: Uint8Array) => this.#return(whole);
  #freeBytes = 0;
  /** Buffers taken from the free list or allocated (statistics, tests). */
  taken = 0;
  /** Of those, the ones that were reused. */
  reused = 0;
  /** Buffers whose last hold was released (kept or dropped). */
  returned = 0;

  constructor(options: PayloadPoolOptions) {
    assert(options.bytesMax >= 0, "pool size is not negative");
    this.#bytesMax = options.bytesMax;
    this.#poisonByte = options.poisonByte;
  }

  /** Bytes held by free buffers. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /**
   * A page-aligned buffer of `sizeBytes` (stale contents: the caller fills all of it), lent
   * until {@link adopt} takes its lease.
   */
  take(sizeBytes: number): Uint8Array {
    const { bytes, lease } = this.takeHeld(sizeBytes);
    this.#lent.set(bytes, lease);
    return bytes;
  }

  /**
   * A page-aligned buffer of `sizeBytes` (stale contents) with its lease (one hold, the
   * caller's), for the engine's own use (copied log runs): never lent.
   */
  takeHeld(sizeBytes: number): { bytes: Uint8Array; lease: PayloadLease } {
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes > 0, "payload size is positive");
    const capacity = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    let whole = this.#free.get(capacity)?.pop();
    this.taken++;
    if (whole === undefined) {
      this.#evictOthers(capacity);
      whole = alignedBytes(capacity, PAGE_SIZE);
    } else {
      this.#freeBytes -= capacity;
      this.reused++;
    }
    return { bytes: whole.subarray(0, sizeBytes), lease: new PayloadLease(whole, this.#giveBack) };
  }

  /**
   * Takes over a buffer lent by {@link take}: returns its lease (one hold, the caller's) and
   * forgets the loan, or undefined when `view` is not a lent buffer (then it is not pooled).
   */
  adopt(view: Uint8Array): PayloadLease | undefined {
    const lease = this.#lent.get(view);
    if (lease !== undefined) this.#lent.delete(view);
    return lease;
  }

  /**
   * On a miss, drops free buffers of other sizes worth `capacity`: the free list follows the
   * sizes in use (after a stream of 1 MiB writes filled it, 4 KiB writes' runs would miss).
   */
  #evictOthers(capacity: number): void {
    let dropped = 0;
    for (const [size, list] of this.#free) {
      if (size === capacity) continue;
      while (dropped < capacity && list.pop() !== undefined) {
        this.#freeBytes -= size;
        dropped += size;
      }
      if (list.length === 0) this.#free.delete(size);
      if (dropped >= capacity) return;
    }
  }

  #return(whole: Uint8Array): void {
    this.returned++;
    if (this.#poisonByte !== undefined) whole.fill(this.#poisonByte);
    if (this.#freeBytes + whole.length > this.#bytesMax) return;
    const list = this.#free.get(whole.length);
    if (list === undefined) this.#free.set(whole.length, [whole]);
    else list.push(whole);
    this.#freeBytes += whole.length;
  }
}
