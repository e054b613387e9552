/**
 * walb-ts: the public library API.
 *
 * Formats and codecs of walb-tools 1.0.19, byte-compatible:
 * - `wlog`: ldev super sector, logpacks, wlog files (reader, writer, printers);
 * - `wdiff`: sorted and indexed wdiff files, in-memory diff, merge, apply, virtual full image,
 *   wlog → wdiff conversion;
 * - `codec`: the six wdiff codecs (none, gzip, snappy, lzma, lz4, zstd);
 * - `meta`: MetaSnap / MetaDiff / MetaState, diff file names, diff selection;
 * - `serializer`: the cybozulib binary serializer of metadata files and the wire;
 * - checksums: the WalB checksum and MurmurHash3 x64-128.
 *
 * The device layer, the wire protocol and the controller (the original's walb.py) are
 * exported as they become complete.
 *
 * @example
 * ```ts
 * import { checksum } from "./mod.ts";
 * if (checksum(new Uint8Array(512), 0) !== 0) throw new Error("the checksum of zeros is 0");
 * ```
 *
 * @module
 */
export * from "./lib/errors.ts";
export { checksum, checksumFinish, checksumPartial } from "./lib/format/checksum/checksum.ts";
export { murmurHash3x64128, murmurHex, MurmurStreamHasher } from "./lib/format/checksum/murmur3.ts";
export * as wlog from "./lib/format/wlog/mod.ts";
export * as wdiff from "./lib/format/wdiff/mod.ts";
export * as codec from "./lib/codec/mod.ts";
export * as meta from "./lib/format/meta/mod.ts";
export * as serializer from "./lib/format/serializer/mod.ts";
export * as controller from "./lib/controller/mod.ts";
export * from "./lib/io/stream.ts";
export * from "./lib/io/random_access.ts";
