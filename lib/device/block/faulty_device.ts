/**
 * A {@link BlockDevice} wrapper that injects seeded faults, for tests and the simulator:
 * failed reads and writes (at chosen ranges or at a rate), torn writes, ENOSPC, failed
 * flushes, and crashes that lose every write not yet flushed.
 *
 * @module
 */
import { LimitExceededError } from "../../errors.ts";
import {
  BLOCK_LIMITS,
  type BlockDevice,
  BlockIoError,
  checkRange,
  closedError,
  readOnlyError,
  SerialQueue,
} from "./block_device.ts";

/** A byte range `[offsetBytes, offsetBytes + lengthBytes)`. */
export interface ByteRange {
  offsetBytes: number;
  lengthBytes: number;
}

/** What to inject. Rates are probabilities per call, drawn from the seeded generator. */
export interface FaultConfig {
  /** Reads fail with EIO at this rate. */
  readErrorRate?: number;
  /** Reads touching one of these ranges fail with EIO. */
  readErrorRanges?: ByteRange[];
  /** Writes fail with EIO, changing nothing, at this rate. */
  writeErrorRate?: number;
  /** Writes touching one of these ranges fail with EIO, changing nothing. */
  writeErrorRanges?: ByteRange[];
  /** Writes apply a random prefix of their sectors, then fail with EIO, at this rate. */
  tornWriteRate?: number;
  /** Writes fail with ENOSPC once this many bytes have been written (write + writeZeroes). */
  noSpaceAfterBytes?: number;
  /** Flushes fail with EIO, persisting nothing, at this rate. */
  flushErrorRate?: number;
}

/** Counts of injected faults. */
export interface FaultStats {
  readErrors: number;
  writeErrors: number;
  tornWrites: number;
  noSpaceErrors: number;
  flushErrors: number;
  crashes: number;
}

/** Options of {@link FaultyDevice}. */
export interface FaultyDeviceOptions {
  /** Seed of the fault generator; the same seed and calls give the same faults. */
  seed: number;
  /** Faults from the start (default none; change later with {@link FaultyDevice.setFaults}). */
  faults?: FaultConfig;
}

/**
 * Wraps a durable device with a volatile write cache and fault injection.
 *
 * Writes (and zeroing, discards) land in an in-memory overlay of sectors; reads see the
 * overlay over the inner device. `flush()` writes the overlay to the inner device, flushes it
 * and empties the overlay. {@link crash} drops the overlay, as a power loss drops a disk's
 * cache: the inner device then holds exactly the flushed state (or, with `persistRate`, the
 * flushed state plus a random subset of unflushed sectors, like a cache written back in an
 * arbitrary order). The device stays usable after a crash, as after a reboot.
 *
 * The sector is max(512, inner alignment); the wrapper has the inner device's alignment.
 * Faults are drawn from a seeded generator, one draw per decision, so a seed replays a run.
 *
 * @example
 * ```ts
 * import { FaultyDevice } from "./faulty_device.ts";
 * import { MemoryDevice } from "./memory_device.ts";
 * const device = new FaultyDevice(new MemoryDevice({ sizeBytes: 65536 }), { seed: 1 });
 * await device.write(0, new Uint8Array([1]));
 * device.crash();
 * if ((await device.read(0, 1))[0] !== 0) throw new Error("unflushed write survived");
 * ```
 */
export class FaultyDevice implements BlockDevice {
  readonly sectorSizeBytes: number;
  #inner: BlockDevice;
  #random: () => number;
  #faults: FaultConfig;
  #overlay = new Map<number, Uint8Array>();
  /** Sectors being written to the inner device by a flush in progress (reads see them). */
  #flushing = new Map<number, Uint8Array>();
  #writtenBytes = 0;
  /** Overlay updates (read sector, patch, store) run one at a time so none is lost. */
  #updates = new SerialQueue();
  /** Counts crashes; a flush in progress stops writing once it changes. */
  #epoch = 0;
  #closed = false;
  #stats: FaultStats = {
    readErrors: 0,
    writeErrors: 0,
    tornWrites: 0,
    noSpaceErrors: 0,
    flushErrors: 0,
    crashes: 0,
  };

  /**
   * @param inner the durable device (it sees only flushed data)
   * @param options the seed and the initial faults
   */
  constructor(inner: BlockDevice, options: FaultyDeviceOptions) {
    this.#inner = inner;
    this.#random = seededRandom(options.seed);
    this.#faults = options.faults ?? {};
    this.sectorSizeBytes = Math.max(512, inner.alignmentBytes);
  }

  get description(): string {
    return `faulty(${this.#inner.description})`;
  }
  get sizeBytes(): number {
    return this.#inner.sizeBytes;
  }
  /** Re-reads the inner device's size (a fixed-size inner device keeps its size). */
  async refreshSize(): Promise<number> {
    return await this.#inner.refreshSize?.() ?? this.#inner.sizeBytes;
  }
  get physicalBlockSize(): number {
    return this.#inner.physicalBlockSize;
  }
  get alignmentBytes(): number {
    return this.#inner.alignmentBytes;
  }
  get readOnly(): boolean {
    return this.#inner.readOnly;
  }

  /** Counts of the faults injected so far. */
  get stats(): Readonly<FaultStats> {
    return { ...this.#stats };
  }

  /** Bytes written but not yet flushed (the overlay). */
  get unflushedBytes(): number {
    return (this.#overlay.size + this.#flushing.size) * this.sectorSizeBytes;
  }

  /** Replaces the fault configuration (e.g. `{}` to stop faults and let a system converge). */
  setFaults(faults: FaultConfig): void {
    this.#faults = faults;
  }

  /**
   * Loses every unflushed write, as a power loss does.
   *
   * @param options `persistRate`: probability that each unflushed sector reached the disk
   *   anyway (default 0: all are lost)
   */
  crash(options: { persistRate?: number } = {}): Promise<void> {
    this.#stats.crashes++;
    this.#epoch++;
    const persistRate = options.persistRate ?? 0;
    const survivors: [number, Uint8Array][] = [];
    for (const entry of [...this.#flushing, ...this.#overlay]) {
      if (persistRate > 0 && this.#random() < persistRate) survivors.push(entry);
    }
    this.#overlay = new Map();
    this.#flushing = new Map();
    return Promise.all(survivors.map(([index, bytes]) => this.#writeSector(index, bytes)))
      .then(() => undefined);
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const target = new Uint8Array(lengthBytes);
    await this.readInto(offsetBytes, target);
    return target;
  }

  async readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    this.#check("read", offsetBytes, target.length);
    const range = { offsetBytes, lengthBytes: target.length };
    if (this.#hits(this.#faults.readErrorRanges, range) || this.#draw(this.#faults.readErrorRate)) {
      this.#stats.readErrors++;
      throw this.#injected("read", "EIO", "injected read error", range);
    }
    await this.#inner.readInto(offsetBytes, target);
    for (const layer of [this.#flushing, this.#overlay]) {
      this.#forEachSector(offsetBytes, target.length, (index, start, length, position) => {
        const sector = layer.get(index);
        if (sector !== undefined) target.set(sector.subarray(start, start + length), position);
      });
    }
  }

  async write(offsetBytes: number, data: Uint8Array): Promise<void> {
    this.#check("write", offsetBytes, data.length, true);
    const range = { offsetBytes, lengthBytes: data.length };
    this.#injectWriteFaults(range);
    if (this.#draw(this.#faults.tornWriteRate) && data.length > 0) {
      this.#stats.tornWrites++;
      const sectorCount = this.#sectorCount(offsetBytes, data.length);
      const keptCount = Math.floor(this.#random() * sectorCount);
      const keptEnd = Math.min(
        data.length,
        (Math.floor(offsetBytes / this.sectorSizeBytes) + keptCount) * this.sectorSizeBytes -
          offsetBytes,
      );
      if (keptEnd > 0) await this.#apply(offsetBytes, data.subarray(0, keptEnd));
      throw this.#injected(
        "write",
        "EIO",
        `injected torn write: ${keptCount} of ${sectorCount} sectors applied`,
        range,
      );
    }
    await this.#apply(offsetBytes, data);
    this.#writtenBytes += data.length;
  }

  async writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.#check("zero", offsetBytes, lengthBytes, true);
    this.#injectWriteFaults({ offsetBytes, lengthBytes });
    await this.#applyZeroes(offsetBytes, lengthBytes);
    this.#writtenBytes += lengthBytes;
  }

  async discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.#check("discard", offsetBytes, lengthBytes, true);
    await this.#applyZeroes(offsetBytes, lengthBytes);
  }

  async flush(): Promise<void> {
    if (this.#closed) throw closedError("flush", this.description);
    if (this.#draw(this.#faults.flushErrorRate)) {
      this.#stats.flushErrors++;
      throw this.#injected("flush", "EIO", "injected flush error", {
        offsetBytes: 0,
        lengthBytes: 0,
      });
    }
    const epoch = this.#epoch;
    const batch = this.#overlay;
    this.#overlay = new Map();
    for (const [index, bytes] of batch) this.#flushing.set(index, bytes);
    try {
      const indexes = [...batch.keys()].sort((a, b) => a - b);
      for (let i = 0; i < indexes.length;) {
        let end = i + 1;
        while (end < indexes.length && indexes[end] === indexes[end - 1]! + 1) end++;
        if (this.#epoch !== epoch) {
          throw this.#injected("flush", "EIO", "device crashed during flush", {
            offsetBytes: 0,
            lengthBytes: 0,
          });
        }
        await this.#writeRun(indexes.slice(i, end), batch);
        i = end;
      }
      await this.#inner.flush();
    } catch (error) {
      // Keep what did not reach the inner device volatile, under newer writes.
      if (this.#epoch !== epoch) throw error;
      for (const [index, bytes] of batch) {
        if (!this.#overlay.has(index) && this.#flushing.get(index) === bytes) {
          this.#overlay.set(index, bytes);
        }
      }
      throw error;
    } finally {
      for (const [index, bytes] of batch) {
        if (this.#flushing.get(index) === bytes) this.#flushing.delete(index);
      }
    }
  }

  /** Closes the inner device; unflushed writes are lost (close without flush = crash). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#overlay.clear();
    await this.#inner.close();
  }

  #check(operation: string, offsetBytes: number, lengthBytes: number, writes = false): void {
    if (this.#closed) throw closedError(operation, this.description);
    if (writes && this.readOnly) throw readOnlyError(operation, this.description);
    checkRange(this, { operation, offsetBytes, lengthBytes });
  }

  #injectWriteFaults(range: ByteRange): void {
    const faults = this.#faults;
    if (this.#hits(faults.writeErrorRanges, range) || this.#draw(faults.writeErrorRate)) {
      this.#stats.writeErrors++;
      throw this.#injected("write", "EIO", "injected write error", range);
    }
    const budget = faults.noSpaceAfterBytes;
    if (budget !== undefined && this.#writtenBytes + range.lengthBytes > budget) {
      this.#stats.noSpaceErrors++;
      throw this.#injected("write", "ENOSPC", "injected no space left on device", range);
    }
  }

  #draw(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.#random() < rate;
  }

  #hits(ranges: ByteRange[] | undefined, range: ByteRange): boolean {
    if (ranges === undefined || range.lengthBytes === 0) return false;
    const end = range.offsetBytes + range.lengthBytes;
    return ranges.some((r) =>
      r.offsetBytes < end && range.offsetBytes < r.offsetBytes + r.lengthBytes
    );
  }

  #injected(operation: string, code: string, detail: string, range: ByteRange): BlockIoError {
    return new BlockIoError(operation, this.description, code, detail, range);
  }

  #apply(offsetBytes: number, data: Uint8Array): Promise<void> {
    return this.#updates.run(async () => {
      const sectors = await this.#loadSectors(offsetBytes, data.length);
      this.#forEachSector(offsetBytes, data.length, (index, start, length, position) => {
        sectors.get(index)!.set(data.subarray(position, position + length), start);
      });
      this.#store(sectors);
    });
  }

  #applyZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#updates.run(async () => {
      const sectors = await this.#loadSectors(offsetBytes, lengthBytes);
      this.#forEachSector(offsetBytes, lengthBytes, (index, start, length) => {
        sectors.get(index)!.fill(0, start, start + length);
      });
      this.#store(sectors);
    });
  }

  /** Current content of every sector the range touches (full sectors need no read). */
  async #loadSectors(offsetBytes: number, lengthBytes: number): Promise<Map<number, Uint8Array>> {
    const sectors = new Map<number, Uint8Array>();
    const pending: Promise<void>[] = [];
    this.#forEachSector(offsetBytes, lengthBytes, (index, start, length) => {
      const sectorLength = this.#sectorLength(index);
      const known = this.#overlay.get(index) ?? this.#flushing.get(index);
      if (known !== undefined) {
        sectors.set(index, known.slice());
      } else if (start === 0 && length === sectorLength) {
        sectors.set(index, new Uint8Array(sectorLength));
      } else {
        const sector = new Uint8Array(sectorLength);
        sectors.set(index, sector);
        pending.push(this.#inner.readInto(index * this.sectorSizeBytes, sector));
      }
    });
    await Promise.all(pending);
    return sectors;
  }

  #store(sectors: Map<number, Uint8Array>): void {
    for (const [index, bytes] of sectors) this.#overlay.set(index, bytes);
    if (this.unflushedBytes > BLOCK_LIMITS.faultyOverlayBytesMax) {
      throw new LimitExceededError(
        "unflushed bytes of a FaultyDevice",
        BLOCK_LIMITS.faultyOverlayBytesMax,
        this.unflushedBytes,
      );
    }
  }

  async #writeRun(indexes: number[], batch: Map<number, Uint8Array>): Promise<void> {
    const first = indexes[0]!;
    const parts = indexes.map((index) => batch.get(index)!);
    const data = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let position = 0;
    for (const part of parts) {
      data.set(part, position);
      position += part.length;
    }
    await this.#inner.write(first * this.sectorSizeBytes, data);
  }

  #writeSector(index: number, bytes: Uint8Array): Promise<void> {
    return this.#inner.write(index * this.sectorSizeBytes, bytes);
  }

  #sectorLength(index: number): number {
    return Math.min(this.sectorSizeBytes, this.sizeBytes - index * this.sectorSizeBytes);
  }

  #sectorCount(offsetBytes: number, lengthBytes: number): number {
    const first = Math.floor(offsetBytes / this.sectorSizeBytes);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.sectorSizeBytes);
    return last - first + 1;
  }

  /** Calls `visit(sectorIndex, startInSector, length, positionInRequest)` per sector touched. */
  #forEachSector(
    offsetBytes: number,
    lengthBytes: number,
    visit: (index: number, start: number, length: number, position: number) => void,
  ): void {
    let position = 0;
    while (position < lengthBytes) {
      const offset = offsetBytes + position;
      const index = Math.floor(offset / this.sectorSizeBytes);
      const start = offset % this.sectorSizeBytes;
      const length = Math.min(this.sectorSizeBytes - start, lengthBytes - position);
      visit(index, start, length, position);
      position += length;
    }
  }
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
