/**
 * One block-I/O interface, {@link BlockDevice}, implemented over memory, a regular file
 * (buffered), `O_DIRECT` (files and block devices) and a fault-injecting wrapper. WalB devices
 * (kernel and userland) and the simulator sit on it.
 *
 * @module
 */

/** Named limits of the block layer (kept here until they move to lib/limits.ts). */
export const BLOCK_LIMITS = {
  /**
   * Largest read/write of one call [bytes]: a whole logpack payload (65535 pb of 4096 bytes)
   * fits, and a hostile length cannot make `read()` allocate more.
   */
  ioSizeMax: 65535 * 4096,
  /** Bounce buffer of the O_DIRECT device [bytes]: big enough to stream, small to keep. */
  directChunkSizeBytes: 1024 * 1024,
  /**
   * Bounce buffer of the O_DIRECT device for transfers over {@link directChunkSizeBytes}
   * [bytes]: one O_DIRECT call per 4 MiB (a WalB log batch of a 1 MiB write is 1 MiB + one
   * header pb).
   */
  directLargeChunkSizeBytes: 4 * 1024 * 1024,
  /** Idle bounce buffers an O_DIRECT device keeps for reuse (more are freed after use). */
  directPoolBuffersMax: 8,
  /** Zero buffer used by zero-write fallbacks [bytes]. */
  zeroChunkSizeBytes: 1024 * 1024,
  /** Unflushed bytes a FaultyDevice keeps in its volatile overlay; a test writing more is wrong. */
  faultyOverlayBytesMax: 512 * 1024 * 1024,
} as const;

/**
 * A fixed-size array of bytes addressed by byte offset: a disk, a partition, an image file.
 *
 * Rules every implementation follows (checked by `conformance_test_suite.ts`):
 *
 * - **Alignment.** Each `offsetBytes` and each length is a multiple of {@link alignmentBytes}:
 *   1 for memory and buffered files (any offset), the logical sector size (512 or 4096) for
 *   `O_DIRECT`. A violation throws {@link BlockRangeError}; nothing is done.
 * - **Range.** `[offset, offset + length)` lies within `[0, sizeBytes)`, lengths are at most
 *   {@link BLOCK_LIMITS}.ioSizeMax; else {@link BlockRangeError}. Zero lengths are no-ops.
 * - **Visibility.** Once a write resolves, every later read returns its data.
 * - **Durability.** Only data written before a {@link flush} began is durable once it resolves
 *   (`fdatasync`). Unflushed writes may be lost whole or in part by a crash.
 * - **Concurrency.** Calls may overlap; overlapping concurrent writes land in unspecified order.
 * - **Zeroes.** After `writeZeroes` the range reads as zeroes. After `discard` its content is
 *   unspecified (memory and files read zeroes; a block device may keep the old data).
 * - **Failures** are {@link BlockIoError} with an errno-style `code` (EIO, ENOSPC, EROFS, EBADF
 *   after close); a failed write leaves its range unspecified.
 */
export interface BlockDevice {
  /** What the device is, for messages: a path or "memory". */
  readonly description: string;
  /** Size in bytes, fixed while open. */
  readonly sizeBytes: number;
  /** Physical block size [bytes]: the atomic write unit (512 or 4096). */
  readonly physicalBlockSize: number;
  /** Every offset and length must be a multiple of this (1 = any). */
  readonly alignmentBytes: number;
  /** Writes, zeroing and discards fail with EROFS. */
  readonly readOnly: boolean;
  /** Reads `lengthBytes` at `offsetBytes` into a new array. */
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
  /** Reads `target.length` bytes at `offsetBytes` into `target`. */
  readInto(offsetBytes: number, target: Uint8Array): Promise<void>;
  /**
   * Optional synchronous read for data at hand (memory, the page cache): fills all of
   * `target` with the bytes at `offsetBytes` and returns true, or returns false having
   * promised nothing (not cached, closed, out of range, an error: {@link readInto} then does
   * the read and reports any error). Never waits for a disk.
   */
  tryReadIntoSync?(offsetBytes: number, target: Uint8Array): boolean;
  /** Writes all of `data` at `offsetBytes`. */
  write(offsetBytes: number, data: Uint8Array): Promise<void>;
  /**
   * Optional gather write: writes the concatenation of `parts` at `offsetBytes` (one
   * `pwritev`), as {@link write} would write it joined. Range and alignment rules apply to the
   * whole; at most 1024 parts.
   */
  writeGather?(offsetBytes: number, parts: readonly Uint8Array[]): Promise<void>;
  /**
   * Optional list write: all of `writes`, which must not overlap, in any order, as one call
   * (PosixFileDevice: one `lio_listio`). Each write follows the rules of {@link write}.
   */
  writeList?(writes: readonly { offsetBytes: number; data: Uint8Array }[]): Promise<void>;
  /** Makes `[offsetBytes, offsetBytes + lengthBytes)` read as zeroes. */
  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Tells the device the range is unused (hole punch, BLKDISCARD); content unspecified. */
  discard(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Makes every completed write durable (`fdatasync`). */
  flush(): Promise<void>;
  /** Waits for calls in flight, then releases the device. Idempotent. */
  close(): Promise<void>;
  /**
   * Re-reads the size of the file or block device underneath (it may have grown since open,
   * as a ddev does before `wdevc resize`) and makes it the new {@link sizeBytes}. Optional:
   * devices of a fixed size (memory) omit it.
   *
   * @returns the new size [bytes]
   */
  refreshSize?(): Promise<number>;
}

/** An offset or length is out of range or misaligned: a caller's bug or bad input. */
export class BlockRangeError extends RangeError {
  constructor(
    readonly operation: string,
    readonly description: string,
    readonly offsetBytes: number,
    readonly lengthBytes: number,
    detail: string,
  ) {
    super(
      `Cannot ${operation} ${description} at offset ${offsetBytes} length ${lengthBytes}: ${detail}`,
    );
    this.name = "BlockRangeError";
  }
}

/** An I/O call failed (or a fault was injected); `code` is an errno name such as "EIO". */
export class BlockIoError extends Error {
  constructor(
    readonly operation: string,
    readonly description: string,
    readonly code: string,
    detail: string,
    options?: ErrorOptions & { offsetBytes?: number; lengthBytes?: number },
  ) {
    const where = options?.offsetBytes === undefined
      ? ""
      : ` at offset ${options.offsetBytes} length ${options.lengthBytes ?? 0}`;
    super(`Cannot ${operation} ${description}${where}: ${detail} (${code})`, options);
    this.name = "BlockIoError";
  }
}

/**
 * Checks a call's range against a device's size, alignment and the I/O limit.
 *
 * @throws {BlockRangeError} naming what is wrong
 */
export function checkRange(
  device: Pick<BlockDevice, "description" | "sizeBytes" | "alignmentBytes">,
  request: { operation: string; offsetBytes: number; lengthBytes: number },
): void {
  const { operation, offsetBytes, lengthBytes } = request;
  const reject = (detail: string): never => {
    throw new BlockRangeError(operation, device.description, offsetBytes, lengthBytes, detail);
  };
  if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0) {
    reject("offset is not a non-negative integer");
  }
  if (!Number.isSafeInteger(lengthBytes) || lengthBytes < 0) {
    reject("length is not a non-negative integer");
  }
  if (offsetBytes + lengthBytes > device.sizeBytes) {
    reject(`range ends past the device size ${device.sizeBytes}`);
  }
  const alignment = device.alignmentBytes;
  if (offsetBytes % alignment !== 0 || lengthBytes % alignment !== 0) {
    reject(`offset and length must be multiples of ${alignment} bytes`);
  }
  if (lengthBytes > BLOCK_LIMITS.ioSizeMax && operation !== "discard" && operation !== "zero") {
    reject(`length is over the I/O limit ${BLOCK_LIMITS.ioSizeMax}`);
  }
}

/**
 * The EBADF error of a call on a closed device.
 *
 * @param closedBy an error made by `close()` (its stack says who closed the device), kept as
 *   the cause so a use after close names both sides
 */
export function closedError(
  operation: string,
  description: string,
  closedBy?: Error,
): BlockIoError {
  const options = closedBy === undefined ? undefined : { cause: closedBy };
  return new BlockIoError(operation, description, "EBADF", "device is closed", options);
}

/** What a device's `close()` records: an error whose stack is the closing call's. */
export function closeRecord(description: string): Error {
  return new Error(`${description} was closed here`);
}

/** The EROFS error of a write to a read-only device. */
export function readOnlyError(operation: string, description: string): BlockIoError {
  return new BlockIoError(operation, description, "EROFS", "device is read-only");
}

/** Runs `task` now and turns its result or its throw into a promise (sync bodies of async APIs). */
export function settle<T>(task: () => T): Promise<T> {
  try {
    return Promise.resolve(task());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Runs async tasks one at a time, in call order. Devices over one seekable handle use it so a
 * seek and its read or write are never split by another call.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Tracks calls in flight so `close()` can wait for them before releasing resources. */
export class InFlight {
  #pending = new Set<Promise<unknown>>();

  /** Runs `task`, remembering it until it settles. */
  track<T>(task: Promise<T>): Promise<T> {
    this.#pending.add(task);
    const forget = () => this.#pending.delete(task);
    task.then(forget, forget);
    return task;
  }

  /** Resolves once every tracked call has settled (successfully or not). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
