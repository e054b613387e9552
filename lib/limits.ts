/**
 * Named maxima for every buffer, queue, pack and frame, with why each holds.
 * Relations between limits are asserted when the module loads.
 *
 * @module
 */
import { assert } from "./errors.ts";

export const LIMITS = {
  /** Logical block size in bytes (fixed by WalB). */
  lbSize: 512,
  /** Largest physical block size WalB supports; pbs must divide the 4096-byte page. */
  pbSizeMax: 4096,
  /** Largest io_size [lb] of a normal (non-discard) log record (u16 on the wire of the driver). */
  normalIoLbMax: 65535,
  /** Largest total_io_size [pb] of one logpack (u16 field). */
  logpackTotalIoPbMax: 65535,
  /** Records in one sorted wdiff pack: (4096 - 16) / 32 rounded down. */
  wdiffPackRecordsMax: 127,
  /** Payload bytes in one sorted wdiff pack (32 MiB, the original's limit). */
  wdiffPackDataSizeMax: 32 * 1024 * 1024,
  /** Default chunk of the in-memory diff and indexed writer [lb] (1 MiB). */
  diffIoLbDefault: 2048,
  /**
   * Largest decompressed image we accept from a wdiff record [lb]. A record's io_blocks is
   * a u32, but normal data comes from log IOs (< 65536 lb) or merges capped by -x; 64 MiB
   * keeps a hostile length field from driving allocation while allowing every writer's output.
   */
  wdiffNormalIoLbMax: 131072,
  /** Largest stored (compressed) record size we read [bytes]: a pack's payload limit. */
  wdiffStoredSizeMax: 32 * 1024 * 1024 + 4096,
  /**
   * Largest output one codec call may be asked to produce [bytes]: a wdiff record's largest
   * image (wdiffNormalIoLbMax lb). Decoders never allocate more than the size they are given.
   */
  codecOutputSizeMax: 131072 * 512,
  /**
   * Bytes in one serialized string (cybozu serializer): volume ids, reply texts and status
   * lines are far shorter; 16 MiB bounds what a hostile length field can make us allocate.
   */
  serialStringBytesMax: 16 * 1024 * 1024,
  /**
   * Elements in one serialized vector or map: an archive's diff list is thousands long at most;
   * every element takes at least one byte, so the count is also checked against the input.
   */
  serialVectorCountMax: 1024 * 1024,
  /**
   * Bytes of one `str` read from a peer (protocol §1.2.3). The longest strings on the wire are
   * error texts with a stack trace (~200 bytes), status/LTSV/exec lines and host infos; 1 MiB
   * is far above all of them and bounds what a hostile length field can make us allocate.
   */
  protocolStringSizeMax: 1024 * 1024,
  /**
   * Bytes of the client id and protocol name read during negotiation (§1.4.1), before the
   * peer is known at all: node ids are host names (<= 255 bytes), protocol names < 32.
   */
  protocolNameSizeMax: 1024,
  /**
   * Elements of one `strvec` (§1.2.3): the longest vectors are `get diff`/`restorable`
   * listings and `exec` output, one line per wdiff or snapshot; 2^20 lines covers years of
   * diffs of one volume while bounding the array a hostile count field can make us build.
   */
  protocolStringVectorCountMax: 1024 * 1024,
  /** Total string bytes of one `strvec` (64 MiB: 2^20 lines of 64 bytes). */
  protocolStringVectorSizeMax: 64 * 1024 * 1024,
  /**
   * Bytes one socket read asks for (and the reader buffers ahead): 64 KiB, a socket
   * buffer's worth; raw payloads larger than this are assembled across reads.
   */
  protocolReadChunkSize: 64 * 1024,
} as const;

assert(LIMITS.pbSizeMax % LIMITS.lbSize === 0, "pbs must be a multiple of lb");
assert(
  LIMITS.wdiffNormalIoLbMax * LIMITS.lbSize <= 2 * LIMITS.wdiffPackDataSizeMax,
  "a normal wdiff record must be readable within twice the pack payload",
);
assert(
  LIMITS.codecOutputSizeMax === LIMITS.wdiffNormalIoLbMax * LIMITS.lbSize,
  "codecs can produce every readable wdiff record",
);
assert(LIMITS.diffIoLbDefault <= LIMITS.wdiffNormalIoLbMax, "default diff IO fits the reader");
assert(
  LIMITS.protocolNameSizeMax <= LIMITS.protocolStringSizeMax,
  "negotiation strings are strings",
);
assert(
  LIMITS.protocolStringSizeMax <= LIMITS.protocolStringVectorSizeMax,
  "one string fits in a string vector",
);

/** Limits of the wdiff readers (added with lib/format/wdiff readers). */
export const WDIFF_READER_LIMITS = {
  /**
   * Bytes of decompressed images the indexed reader caches (the original's LRU size): pieces
   * of one image are usually consecutive in the index, so a small cache avoids re-decoding.
   */
  indexedImageCacheSizeMax: 32 * 1024 * 1024,
  /** Index records read per positional read (48 KiB buffers). */
  indexedRecordsPerRead: 1024,
} as const;

/** Limits of the diff algorithms (lib/format/wdiff merge, apply, virtual full image). */
export const DIFF_ALGO_LIMITS = {
  /**
   * Bytes one zeroing or discard call of apply covers [bytes]: a discard record may span
   * 2^32 − 1 lb (2 TiB), so ranges are cut well below a device's per-call limit (256 MiB).
   */
  applyIoSizeMax: 32 * 1024 * 1024,
  /**
   * Largest output chunk of the virtual full image [bytes]: `virt-full-cat -b` may ask for up
   * to 4 GiB; larger values are served in chunks of this size (the bytes are the same).
   */
  virtualFullChunkSizeMax: 64 * 1024 * 1024,
} as const;

/** Limits of the full-backup data path (storage → archive, §1.11.4). */
export const FULL_SYNC_LIMITS = {
  /**
   * Bytes one device read of a full backup asks for: several bulks per NBD round trip (the
   * round trip, not the bytes, dominated at one 256 KiB bulk per read); split into bulks
   * before compression, so the wire bytes do not change.
   */
  deviceReadSizeMax: 4 * 1024 * 1024,
  /**
   * Device reads kept ahead of compression and sending: read N+1 while N is compressed and
   * sent; 2 × 4 MiB bounds the storage's read-ahead memory at 8 MiB per full backup.
   */
  readAheadCountMax: 2,
  /**
   * Compressed bytes buffered before a socket write: fewer, larger writes; also bounds the
   * unsent output of one full backup.
   */
  socketWriteSizeMin: 1024 * 1024,
  /**
   * Image writes of received bulks kept in flight on the archive, overlapping the disk with
   * receiving and decompressing the next bulks (each write {@link archiveWriteSizeBytes} at
   * most).
   */
  archiveWritesInFlightMax: 8,
  /**
   * Bytes per image write of a full sync: received bulks (256 KiB by default) are gathered
   * into page-aligned buffers of this size, which an O_DIRECT image writes in place. With the
   * writes in flight: 9 × 4 MiB = 36 MiB at most.
   */
  archiveWriteSizeBytes: 4 * 1024 * 1024,
  /**
   * Workers compressing full-sync bulks (`-sync-cmpr`'s numCpu, up to this): more than the
   * machine's cores buys nothing, and each holds up to one device read (4 MiB) in flight.
   */
  compressWorkerCountMax: 16,
  /**
   * Received bulks being verified and decompressed by the archive's workers ahead of the
   * image writes: 8 × 4 MiB (the largest bulk) bounds that memory at 32 MiB.
   */
  archiveDecodesInFlightMax: 8,
  /**
   * Image bytes written between the archive's background `fdatasync` calls during a full sync
   * and while applying diffs (restore, apply; one at a time, not waited for): the disk writes
   * the image while the next bytes come, so the `-fi` and final syncs, which are waited for,
   * find little left to write.
   */
  archiveWritebackIntervalBytes: 64 * 1024 * 1024,
} as const;

/** Limits of the archive's restore, written in one pass (lib/server/archive/restore_image.ts). */
export const RESTORE_LIMITS = {
  /** Bytes per read of the base and per write of the new image: few, large O_DIRECT calls. */
  chunkBytes: 4 * 1024 * 1024,
  /** Base chunks read ahead of the merge (4 × 4 MiB in memory). */
  readsAheadMax: 4,
  /** Image writes in flight behind the merge (4 × 4 MiB in memory). */
  writesInFlightMax: 4,
  /** Image bytes between background `fdatasync` calls (not waited for; the final one is). */
  writebackIntervalBytes: 64 * 1024 * 1024,
} as const;

/** Limits of the proxy's wlog → wdiff conversion (lib/server/proxy/store_pool.ts). */
export const PROXY_LIMITS = {
  /**
   * Workers compressing received wlog data: one takes the codec off the main thread, which
   * then receives, verifies and forwards meanwhile; more would compete with the storage and
   * archive for the cores of a backup host.
   */
  wlogStoreWorkerCount: 1,
  /**
   * Bytes of received IO data waiting for or in compression: bounds the conversion's memory
   * (the original converts one IO at a time) while keeping the worker busy.
   */
  wlogStoreQueuedBytesMax: 16 * 1024 * 1024,
} as const;
