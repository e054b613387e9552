/**
 * The encoding of full-sync bulks (protocol-and-servers.md §1.11.4), pure: an all-zero bulk is
 * sent as `00`, any other as its stored form (compressed with the sync codec, always, even when
 * larger) and the checksum of the stored bytes (salt 0). Shared by the storage's sending loop
 * and the compression workers (bulk_compress_worker.ts), so the bytes never depend on where
 * a bulk was encoded.
 *
 * @module
 */
import { CompressionType, type CompressionTypeCode, type CompressOpt } from "../codec/codec.ts";
import { getCodec } from "../codec/mod.ts";
import { SNAPPY_IMPLEMENTATION } from "../codec/snappy.ts";
import { checksum } from "../format/checksum/checksum.ts";

/** One encoded bulk: `stored` null for an all-zero bulk. */
export interface EncodedBulk {
  stored: Uint8Array | null;
  checksum: number;
}

function isAllZero(data: Uint8Array): boolean {
  const words = data.length % 4 === 0 && data.byteOffset % 4 === 0
    ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4)
    : data;
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * Encodes one bulk.
 *
 * @param bulk the device bytes
 * @param compression the sync codec and level
 * @returns null stored bytes for an all-zero bulk, else the stored bytes and their checksum
 * @example
 * ```ts
 * import { encodeBulk } from "./bulk_encode.ts";
 * const zero = encodeBulk(new Uint8Array(512), { type: 0, level: 0 });
 * if (zero.stored !== null) throw new Error("a zero bulk has no stored bytes");
 * ```
 */
export function encodeBulk(
  bulk: Uint8Array,
  compression: Pick<CompressOpt, "type" | "level">,
): EncodedBulk {
  if (isAllZero(bulk)) return { stored: null, checksum: 0 };
  const stored = getCodec(compression.type).compress(bulk, compression.level);
  return { stored, checksum: checksum(stored, 0) };
}

/**
 * Whether full-sync bulks of `type` are better encoded and decoded in the main thread than
 * by the `-sync-cmpr` workers: true for none and for snappy through the system libsnappy.
 * Why: native snappy compresses a random 256 KiB bulk in ~0.1 ms, so handing reads to a
 * worker (transfer, a second isolate and its ~50 MiB, the joined copy) cost more than the
 * codec; measured at 1 GiB, CPU s per side: storage 1.4–1.8 → 1.0–1.1, archive 1.9–2.3 →
 * 1.3–1.4 (docs/performance.md, Backup group, session 2). The wasm and the slower codecs
 * still use the workers.
 *
 * @param type the sync codec
 * @returns true to encode/decode in this thread
 */
export function codesInThread(type: CompressionTypeCode): boolean {
  if (type === CompressionType.none) return true;
  return type === CompressionType.snappy && SNAPPY_IMPLEMENTATION === "libsnappy";
}
