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
   * Inserts `values`: sorted by address, not overlapping each other nor any entry, and with no
   * entry between them (they fill one gap, e.g. the range just emptied by
   * {@link removeOverlapping}). Why: the indexed writer places all aligned pieces of an IO at
   * once, one search and one splice instead of one of each per piece.
   *
   * @param values the entries, in address order
   */
  insertAll(values: readonly V[]): void {
    const first = values[0];
    if (first === undefined) return;
    if (values.length === 1) return this.insert(first);
    const last = values[values.length - 1]!;
    this.#size += values.length;
    if (this.#chunks.length === 0) {
      this.#chunks.push([...values]);
      this.#splitIfFull(0);
      return;
    }
    const ci = this.#chunkIndex(first.ioAddress);
    const chunk = this.#chunks[ci]!;
    const i = AddressMap.#lowerBound(chunk, first.ioAddress);
    const previous = i > 0 ? chunk[i - 1] : ci > 0 ? this.#chunks[ci - 1]!.at(-1) : undefined;
    assert(
      previous === undefined || previous.ioAddress + previous.ioBlocks <= first.ioAddress,
      "inserted range overlaps its predecessor",
    );
    const next = i < chunk.length ? chunk[i] : this.#chunks[ci + 1]?.[0];
    assert(
      next === undefined || last.ioAddress + last.ioBlocks <= next.ioAddress,
      "inserted range overlaps its successor",
    );
    let end = first.ioAddress;
    for (const value of values) {
      assert(value.ioAddress >= end, "inserted ranges overlap or are not sorted");
      end = value.ioAddress + value.ioBlocks;
    }
    chunk.splice(i, 0, ...values);
    this.#splitIfFull(ci);
  }

  /** Splits chunk `ci` into halves of the maximum while it is over the maximum. */
  #splitIfFull(ci: number): void {
    const chunk = this.#chunks[ci]!;
    let at = ci + 1;
    while (chunk.length > CHUNK_SIZE_MAX) {
      // Keep the first half here, move the rest out half-chunk by half-chunk.
      const tail = chunk.splice(CHUNK_SIZE_MAX >> 1);
      const parts: V[][] = [];
      for (let k = 0; k < tail.length; k += CHUNK_SIZE_MAX >> 1) {
        parts.push(tail.slice(k, k + (CHUNK_SIZE_MAX >> 1)));
      }
      this.#chunks.splice(at, 0, ...parts);
      at += parts.length;
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
