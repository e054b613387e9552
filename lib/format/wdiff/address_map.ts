/**
 * An ordered collection of non-overlapping address ranges with range removal, for the
 * "newest wins" insertion of the indexed writer (and any in-memory diff). Stored as a list of
 * sorted chunks so insertion and removal stay cheap with millions of entries.
 *
 * @module
 */
import { assert } from "../../errors.ts";

/** A range-keyed entry. */
export interface AddressRange {
  ioAddress: number;
  ioBlocks: number;
}

const CHUNK_SIZE_MAX = 1024;

/**
 * Non-overlapping ranges ordered by address.
 *
 * @example
 * ```ts
 * import { AddressMap } from "./address_map.ts";
 * const map = new AddressMap<{ ioAddress: number; ioBlocks: number }>();
 * map.insert({ ioAddress: 0, ioBlocks: 4 });
 * map.insert({ ioAddress: 8, ioBlocks: 4 });
 * if (map.removeOverlapping(2, 9).length !== 2 || map.size !== 0) throw new Error("wrong");
 * ```
 */
export class AddressMap<V extends AddressRange> {
  #chunks: V[][] = [];
  #size = 0;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** Index of the chunk that holds (or would hold) `address`. */
  #chunkIndex(address: number): number {
    let low = 0;
    let high = this.#chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.#chunks[mid]![0]!.ioAddress <= address) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** First index in `chunk` whose address is ≥ `address`. */
  static #lowerBound<V extends AddressRange>(chunk: V[], address: number): number {
    let low = 0;
    let high = chunk.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (chunk[mid]!.ioAddress < address) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Inserts `value`, which must not overlap any entry. */
  insert(value: V): void {
    this.#size++;
    if (this.#chunks.length === 0) {
      this.#chunks.push([value]);
      return;
    }
    const ci = this.#chunkIndex(value.ioAddress);
    const chunk = this.#chunks[ci]!;
    const i = AddressMap.#lowerBound(chunk, value.ioAddress);
    const previous = i > 0 ? chunk[i - 1] : ci > 0 ? this.#chunks[ci - 1]!.at(-1) : undefined;
    assert(
      previous === undefined || previous.ioAddress + previous.ioBlocks <= value.ioAddress,
      "inserted range overlaps its predecessor",
    );
    const next = i < chunk.length ? chunk[i] : this.#chunks[ci + 1]?.[0];
    assert(
      next === undefined || value.ioAddress + value.ioBlocks <= next.ioAddress,
      "inserted range overlaps its successor",
    );
    chunk.splice(i, 0, value);
    if (chunk.length > CHUNK_SIZE_MAX) {
      this.#chunks.splice(ci + 1, 0, chunk.splice(CHUNK_SIZE_MAX >> 1));
    }
  }

  /**
   * Removes and returns every entry overlapping `[start, end)`, in address order.
   */
  removeOverlapping(start: number, end: number): V[] {
    const removed: V[] = [];
    if (this.#chunks.length === 0 || end <= start) return removed;
    let ci = this.#chunkIndex(start);
    let i = AddressMap.#lowerBound(this.#chunks[ci]!, start);
    // The predecessor may reach into the range.
    if (i > 0) i--;
    else if (ci > 0) {
      ci--;
      i = this.#chunks[ci]!.length - 1;
    }
    while (ci < this.#chunks.length) {
      const chunk = this.#chunks[ci]!;
      while (i < chunk.length && chunk[i]!.ioAddress + chunk[i]!.ioBlocks <= start) i++;
      let j = i;
      while (j < chunk.length && chunk[j]!.ioAddress < end) j++;
      if (j > i) removed.push(...chunk.splice(i, j - i));
      // An entry left at i starts at or after `end`: nothing further can overlap.
      const done = i < chunk.length;
      if (chunk.length === 0) this.#chunks.splice(ci, 1);
      else ci++;
      if (done) break;
      i = 0;
    }
    this.#size -= removed.length;
    return removed;
  }

  /** Every entry in address order. */
  *values(): Generator<V> {
    for (const chunk of this.#chunks) yield* chunk;
  }
}
