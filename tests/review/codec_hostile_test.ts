/**
 * Review of the native codec bindings (ffi/libsnappy.ts, ffi/libzstd.ts, ffi/libz.ts) and of
 * decompressInto/decompressExactInto: corrupt stored records (bit flips, truncation, appended
 * bytes, garbage, a wrong expected size) must give a CorruptDataError (or decode to exactly the
 * size asked for), never another error type or a crash, and an in-place decode must never
 * write outside its target (guard bytes around it stay intact).
 */
import { CorruptDataError, LimitExceededError } from "../../lib/errors.ts";
import {
  CompressionType,
  type CompressionTypeCode,
  decompressExact,
  decompressExactInto,
  getCodec,
} from "../../lib/codec/mod.ts";
import { snappyWasmCodec } from "../../lib/codec/snappy.ts";
import { assert } from "../../lib/testing/assert.ts";
import { type Prng, seededPrng } from "../../lib/testing/random.ts";

const TYPES: CompressionTypeCode[] = [
  CompressionType.gzip,
  CompressionType.snappy,
  CompressionType.lzma,
  CompressionType.lz4,
  CompressionType.zstd,
];

function sample(prng: Prng): Uint8Array {
  const size = 512 * prng.range(1, 64);
  const data = new Uint8Array(size);
  // Compressible structure with some random runs.
  for (let at = 0; at < size;) {
    const run = Math.min(size - at, prng.range(1, 700));
    if (prng.chance(0.3)) data.set(prng.bytes(run), at);
    else data.fill(prng.int(4), at, at + run);
    at += run;
  }
  return data;
}

function mutate(prng: Prng, stored: Uint8Array): Uint8Array {
  const kind = prng.int(5);
  if (kind === 0) {
    const copy = stored.slice();
    for (let i = prng.range(1, 4); i > 0; i--) {
      copy[prng.int(copy.length)]! ^= 1 << prng.int(8);
    }
    return copy;
  }
  if (kind === 1) return stored.slice(0, prng.int(stored.length));
  if (kind === 2) {
    const longer = new Uint8Array(stored.length + prng.range(1, 64));
    longer.set(stored);
    longer.set(prng.bytes(longer.length - stored.length), stored.length);
    return longer;
  }
  if (kind === 3) return prng.bytes(prng.range(0, 200));
  // Header bytes only (declared sizes, frame descriptors).
  const copy = stored.slice();
  for (let i = 0; i < Math.min(8, copy.length); i++) if (prng.chance(0.3)) copy[i] = prng.int(256);
  return copy;
}

function expectDecodeError(error: unknown, what: string): void {
  assert(
    error instanceof CorruptDataError || error instanceof LimitExceededError,
    `${what}: expected CorruptDataError, got ${error instanceof Error ? error.stack : error}`,
  );
}

Deno.test("review: corrupt compressed records give CorruptDataError and stay in bounds", () => {
  const prng = seededPrng("review codec hostile");
  const GUARD = 4096;
  for (const type of TYPES) {
    const codec = getCodec(type);
    for (let round = 0; round < 150; round++) {
      const data = sample(prng);
      const stored = codec.compress(data, 0);
      const bad = mutate(prng, stored);
      const size = prng.chance(0.2) ? data.length + 512 * prng.range(-1, 1) : data.length;
      if (size <= 0) continue;
      const what = `${codec.name} round ${round}`;
      try {
        const out = decompressExact(type, bad, size);
        assert(out.length === size, `${what}: decoded ${out.length} of ${size}`);
      } catch (error) {
        expectDecodeError(error, what);
      }
      const arena = new Uint8Array(GUARD + size + GUARD).fill(0xa5);
      const target = arena.subarray(GUARD, GUARD + size);
      try {
        decompressExactInto(type, bad, target);
      } catch (error) {
        expectDecodeError(error, `${what} into`);
      }
      for (let i = 0; i < GUARD; i++) {
        assert(arena[i] === 0xa5 && arena[GUARD + size + i] === 0xa5, `${what}: wrote outside`);
      }
    }
  }
});

Deno.test("review: the wasm snappy codec rejects corrupt blocks with CorruptDataError", () => {
  const prng = seededPrng("review wasm snappy hostile");
  for (let round = 0; round < 200; round++) {
    const data = sample(prng);
    const bad = mutate(prng, snappyWasmCodec.compress(data, 0));
    try {
      const out = snappyWasmCodec.decompress(bad, data.length);
      assert(out.length === data.length, "exact size");
    } catch (error) {
      expectDecodeError(error, `wasm snappy round ${round}`);
    }
  }
});
