/**
 * Buffers for record data handed out in order and given back a pack at a time, carved from a
 * few reused chunks. Why: the sorted conversion reads every surviving record's data again just
 * before writing it (`SourceDataRecord`); a fresh array per record would be zero-filled and,
 * for the first packs, faulted in page by page, while a chunk comes back once the packs using
 * it are written.
 *
 * @module
 */
import { assert } from "../../errors.ts";

/** Default chunk size (4 MiB: a pack of 127 IOs of 32 KiB fits in one). */
export const DATA_ARENA_CHUNK_SIZE_DEFAULT = 4 * 1024 * 1024;

/** Free chunks kept for reuse; more are left to the garbage collector. */
const FREE_CHUNKS_MAX = 4;

interface Chunk {
  bytes: Uint8Array;
  /** Views handed out and not given back. */
  liveCount: number;
}

/**
 * Hands out views of reused chunks; a chunk is reused once every view of it was released.
 * Sizes over a chunk get an array of their own.
 *
 * @example
 * ```ts
 * import { DataArena } from "./data_arena.ts";
 * const arena = new DataArena({ chunkSize: 1024 });
 * const a = arena.allocate(600);
 * const b = arena.allocate(600); // does not fit behind `a`: a second chunk
 * arena.release(a);
 * const c = arena.allocate(600); // `a`'s chunk again, now that `a` is back
 * if (c.buffer !== a.buffer || b.buffer === a.buffer) throw new Error("not reused");
 * ```
 */
export class DataArena {
  readonly #chunkSize: number;
  #current: Chunk | null = null;
  #used = 0;
  #chunks = new Map<ArrayBufferLike, Chunk>();
  #free: Chunk[] = [];

  /** @param options chunkSize in bytes (default {@link DATA_ARENA_CHUNK_SIZE_DEFAULT}) */
  constructor(options: { chunkSize?: number } = {}) {
    this.#chunkSize = options.chunkSize ?? DATA_ARENA_CHUNK_SIZE_DEFAULT;
    assert(this.#chunkSize > 0, "arena chunk size must be positive");
  }

  /**
   * `size` bytes (not zeroed: the caller fills them) owned by the caller until
   * {@link release}.
   */
  allocate(size: number): Uint8Array {
    if (size > this.#chunkSize) return new Uint8Array(size);
    let chunk = this.#current;
    if (chunk === null || this.#used + size > chunk.bytes.length) {
      if (chunk !== null) this.#retire(chunk);
      chunk = this.#free.pop() ?? this.#newChunk();
      this.#current = chunk;
      this.#used = 0;
    }
    const view = chunk.bytes.subarray(this.#used, this.#used + size);
    this.#used += size;
    chunk.liveCount++;
    return view;
  }

  /**
   * Gives back a view from {@link allocate} (views of arrays of their own are ignored); it
   * must not be used afterwards.
   */
  release(view: Uint8Array): void {
    const chunk = this.#chunks.get(view.buffer);
    if (chunk === undefined) return;
    assert(chunk.liveCount > 0, "arena view released twice");
    chunk.liveCount--;
    if (chunk.liveCount === 0 && chunk !== this.#current) this.#retire(chunk);
  }

  #newChunk(): Chunk {
    const chunk = { bytes: new Uint8Array(this.#chunkSize), liveCount: 0 };
    this.#chunks.set(chunk.bytes.buffer, chunk);
    return chunk;
  }

  /** A chunk that is no longer current: reused when free, else when its last view is back. */
  #retire(chunk: Chunk): void {
    if (chunk.liveCount > 0) return;
    if (this.#free.length < FREE_CHUNKS_MAX) this.#free.push(chunk);
    else this.#chunks.delete(chunk.bytes.buffer);
  }
}
