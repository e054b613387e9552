/**
 * In-memory {@link BlockDevice} for tests and the simulator.
 *
 * @module
 */
import {
  type BlockDevice,
  checkRange,
  closedError,
  readOnlyError,
  settle,
} from "./block_device.ts";

/** Bytes per allocated chunk: untouched chunks cost nothing, so big sparse devices are cheap. */
const CHUNK_SIZE_BYTES = 64 * 1024;

/** Options of {@link MemoryDevice}. */
export interface MemoryDeviceOptions {
  /** Device size in bytes. */
  sizeBytes: number;
  /** Reported physical block size (default 512). */
  physicalBlockSize?: number;
  /** Required alignment of offsets and lengths (default 1: any), to mimic O_DIRECT. */
  alignmentBytes?: number;
  /** Reject writes (default false). */
  readOnly?: boolean;
  /** Name for messages (default "memory"). */
  description?: string;
}

/**
 * A sparse in-memory block device. Everything is "durable" at once: `flush()` only checks
 * that the device is open (wrap it in a FaultyDevice to model volatile writes).
 *
 * @example
 * ```ts
 * import { MemoryDevice } from "./memory_device.ts";
 * const device = new MemoryDevice({ sizeBytes: 1 << 20 });
 * await device.write(4096, new Uint8Array([1, 2, 3]));
 * const bytes = await device.read(4096, 3);
 * if (bytes[2] !== 3) throw new Error("not read back");
 * ```
 */
export class MemoryDevice implements BlockDevice {
  readonly description: string;
  readonly sizeBytes: number;
  readonly physicalBlockSize: number;
  readonly alignmentBytes: number;
  readonly readOnly: boolean;
  #chunks = new Map<number, Uint8Array>();
  #closed = false;

  /**
   * @param options size, geometry and mode
   * @throws {RangeError} when the size is not a non-negative integer
   */
  constructor(options: MemoryDeviceOptions) {
    if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes < 0) {
      throw new RangeError(`Cannot create memory device: size ${options.sizeBytes} is invalid`);
    }
    this.sizeBytes = options.sizeBytes;
    this.physicalBlockSize = options.physicalBlockSize ?? 512;
    this.alignmentBytes = options.alignmentBytes ?? 1;
    this.readOnly = options.readOnly ?? false;
    this.description = options.description ?? "memory";
  }

  /** Bytes of memory allocated for written chunks. */
  get allocatedBytes(): number {
    return this.#chunks.size * CHUNK_SIZE_BYTES;
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    return settle(() => {
      this.#check("read", offsetBytes, lengthBytes);
      const target = new Uint8Array(lengthBytes);
      this.#copyOut(offsetBytes, target);
      return target;
    });
  }

  readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    return settle(() => {
      this.#check("read", offsetBytes, target.length);
      this.#copyOut(offsetBytes, target);
    });
  }

  tryReadIntoSync(offsetBytes: number, target: Uint8Array): boolean {
    try {
      this.#check("read", offsetBytes, target.length);
    } catch {
      return false; // readInto reports it
    }
    this.#copyOut(offsetBytes, target);
    return true;
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    return settle(() => {
      this.#check("write", offsetBytes, data.length, true);
      this.#forEachPiece(offsetBytes, data.length, (chunkIndex, start, length, position) => {
        this.#chunk(chunkIndex, true)!.set(data.subarray(position, position + length), start);
      });
    });
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return settle(() => {
      this.#check("zero", offsetBytes, lengthBytes, true);
      this.#zero(offsetBytes, lengthBytes);
    });
  }

  discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    return settle(() => {
      this.#check("discard", offsetBytes, lengthBytes, true);
      this.#zero(offsetBytes, lengthBytes);
    });
  }

  flush(): Promise<void> {
    return settle(() => {
      if (this.#closed) throw closedError("flush", this.description);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#chunks.clear();
    return Promise.resolve();
  }

  #check(operation: string, offsetBytes: number, lengthBytes: number, writes = false): void {
    if (this.#closed) throw closedError(operation, this.description);
    if (writes && this.readOnly) throw readOnlyError(operation, this.description);
    checkRange(this, { operation, offsetBytes, lengthBytes });
  }

  #zero(offsetBytes: number, lengthBytes: number): void {
    this.#forEachPiece(offsetBytes, lengthBytes, (chunkIndex, start, length) => {
      if (start === 0 && length === CHUNK_SIZE_BYTES) {
        this.#chunks.delete(chunkIndex);
      } else {
        this.#chunk(chunkIndex, false)?.fill(0, start, start + length);
      }
    });
  }

  #copyOut(offsetBytes: number, target: Uint8Array): void {
    this.#forEachPiece(offsetBytes, target.length, (chunkIndex, start, length, position) => {
      const chunk = this.#chunk(chunkIndex, false);
      if (chunk === undefined) {
        target.fill(0, position, position + length);
      } else {
        target.set(chunk.subarray(start, start + length), position);
      }
    });
  }

  #chunk(index: number, create: boolean): Uint8Array | undefined {
    let chunk = this.#chunks.get(index);
    if (chunk === undefined && create) {
      chunk = new Uint8Array(CHUNK_SIZE_BYTES);
      this.#chunks.set(index, chunk);
    }
    return chunk;
  }

  /** Calls `visit(chunkIndex, startInChunk, length, positionInRequest)` per chunk touched. */
  #forEachPiece(
    offsetBytes: number,
    lengthBytes: number,
    visit: (chunkIndex: number, start: number, length: number, position: number) => void,
  ): void {
    let position = 0;
    while (position < lengthBytes) {
      const offset = offsetBytes + position;
      const chunkIndex = Math.floor(offset / CHUNK_SIZE_BYTES);
      const start = offset % CHUNK_SIZE_BYTES;
      const length = Math.min(CHUNK_SIZE_BYTES - start, lengthBytes - position);
      visit(chunkIndex, start, length, position);
      position += length;
    }
  }
}
