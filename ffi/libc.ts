/**
 * libc bindings (x86-64 Linux, glibc) for positional, page-cache-bypassing block I/O: `open`
 * with `O_DIRECT`, `pread`/`pwrite`, `fdatasync`, `fallocate`, `ioctl`, `fstatfs` and
 * 4096-aligned native buffers. Deno has no `O_DIRECT` flag and no positional file I/O, hence FFI.
 *
 * Loading is lazy: importing this module never calls `Deno.dlopen`, so it works on a host or in
 * a process without FFI permission; the first function that needs libc loads it (and throws
 * Deno's permission error if FFI is not allowed). {@link isFfiAllowed} asks without throwing.
 *
 * errno: a synchronous call reads `errno` through `__errno_location()` right after the call,
 * on the same thread. A `nonblocking` call runs on one of Deno's blocking-pool threads, whose
 * errno this thread cannot see; when such a call fails, the wrapper replays it synchronously
 * (pread, pwrite, fallocate and discard ioctls are idempotent) to learn errno. If the replay
 * succeeds, the error still stands and reports errno 0 with the text "errno lost".
 *
 * @module
 */
import { BLOCK_IOCTL } from "./ioctl.ts";

/** `open(2)` flags for x86-64 Linux (octal, as in `<asm-generic/fcntl.h>`). */
export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  CLOEXEC: 0o2000000,
} as const;

/** `fallocate(2)` modes. */
export const FALLOC_FL = {
  KEEP_SIZE: 0x01,
  PUNCH_HOLE: 0x02,
  ZERO_RANGE: 0x10,
} as const;

/** `lseek(2)` whence values. */
export const SEEK = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;

/** errno of `lseek(SEEK_DATA)` past the last data: no more data. */
const ENXIO = 6;

/** `statx(2)`: `AT_EMPTY_PATH` flag and the `STATX_DIOALIGN` mask bit (Linux 6.1+). */
const AT_EMPTY_PATH = 0x1000;
const STATX_DIOALIGN = 0x2000;

/** `statfs.f_type` of tmpfs/shmem (`TMPFS_MAGIC`). */
export const TMPFS_MAGIC = 0x01021994;

/** Names of the errno values block I/O meets, for `LibcError.code`. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  25: "ENOTTY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

/** The errno name of `errno` (`"EIO"`), or `"E<number>"` when not in the table. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** A libc call failed; carries the call, the path it acted on and errno. */
export class LibcError extends Error {
  /** The errno name, e.g. `"ENOSPC"` (`"EUNKNOWN"` when errno was lost). */
  readonly code: string;
  constructor(
    readonly call: string,
    readonly path: string,
    readonly errno: number,
    detail: string,
  ) {
    const code = errno === 0 ? "EUNKNOWN" : errnoName(errno);
    super(`Cannot ${call} ${path}: ${detail} (${code})`);
    this.name = "LibcError";
    this.code = code;
  }
}

/** `preadv2(2)` flag: fail with EAGAIN instead of waiting for I/O. */
const RWF_NOWAIT = 0x08;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  pread: { parameters: ["i32", "pointer", "usize", "i64"], result: "isize" },
  pread_async: {
    name: "pread",
    parameters: ["i32", "pointer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  pwrite: { parameters: ["i32", "pointer", "usize", "i64"], result: "isize" },
  pwrite_async: {
    name: "pwrite",
    parameters: ["i32", "pointer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  preadv2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "isize" },
  pwritev: { parameters: ["i32", "pointer", "i32", "i64"], result: "isize" },
  pwritev_async: {
    name: "pwritev",
    parameters: ["i32", "pointer", "i32", "i64"],
    result: "isize",
    nonblocking: true,
  },
  fdatasync: { parameters: ["i32"], result: "i32" },
  fdatasync_async: { name: "fdatasync", parameters: ["i32"], result: "i32", nonblocking: true },
  fsync: { parameters: ["i32"], result: "i32" },
  fsync_async: { name: "fsync", parameters: ["i32"], result: "i32", nonblocking: true },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  fallocate_async: {
    name: "fallocate",
    parameters: ["i32", "i32", "i64", "i64"],
    result: "i32",
    nonblocking: true,
  },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  fstatfs: { parameters: ["i32", "buffer"], result: "i32" },
  statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctl_value: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  ioctl_async: {
    name: "ioctl",
    parameters: ["i32", "u64", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  posix_memalign: { parameters: ["buffer", "usize", "usize"], result: "i32" },
  free: { parameters: ["pointer"], result: "void" },
  strerror: { parameters: ["i32"], result: "pointer" },
  lio_listio_async: {
    name: "lio_listio",
    parameters: ["i32", "pointer", "i32", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  aio_error: { parameters: ["pointer"], result: "i32" },
  aio_return: { parameters: ["pointer"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;

/** Loads libc on first use (never at import time). */
function lib(): Libc {
  if (libc === undefined) libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return libc;
}

/**
 * Whether this process may use FFI, asked without prompting or throwing.
 *
 * @returns true when `--allow-ffi` (or `--allow-all`) was granted
 */
export function isFfiAllowed(): boolean {
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

/**
 * Bytes available to an unprivileged user on the filesystem holding `path` (`statvfs(3)`:
 * f_bavail × f_frsize, what `df` shows as Available), without starting a process.
 *
 * @throws {LibcError} when statvfs fails (ENOENT, EACCES, ...)
 * @example
 * ```ts
 * import { availableBytes } from "./libc.ts";
 * if (!(availableBytes("/") >= 0)) throw new Error("no figure");
 * ```
 */
export function availableBytes(path: string): number {
  const buffer = new BigUint64Array(14); // struct statvfs: 112 bytes on 64-bit Linux
  if (lib().statvfs(new TextEncoder().encode(path + "\0"), buffer) < 0) fail("statvfs", path);
  const frsize = buffer[1]!; // f_frsize (f_bsize is [0])
  const bavail = buffer[4]!; // f_bavail, after f_blocks and f_bfree
  return Number(bavail * frsize);
}

function readErrno(): number {
  const location = lib().__errno_location();
  if (location === null) return 0;
  return new Deno.UnsafePointerView(location).getInt32();
}

function errnoText(errno: number): string {
  if (errno === 0) return "errno lost";
  const text = lib().strerror(errno);
  return text === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(text);
}

/** Throws {@link LibcError} for `call` on `path` from the current thread's errno. */
function fail(call: string, path: string, errno = readErrno()): never {
  throw new LibcError(call, path, errno, errnoText(errno));
}

/**
 * Finishes a nonblocking call: on -1, replays it synchronously to learn errno (module doc).
 */
function failAfterAsync(call: string, path: string, replay: () => number | bigint): never {
  const result = Number(replay());
  fail(call, path, result < 0 ? readErrno() : 0);
}

/**
 * Views shorter than this may live inside V8's heap, where the garbage collector moves them
 * (V8 keeps typed arrays of up to 64 bytes on-heap); nonblocking calls copy such data through
 * native memory, because the pointer is used on another thread after this one moved on.
 */
const MOVABLE_SIZE_MAX = 4096;

/** `struct aiocb` (glibc, x86-64): size and field offsets used by {@link LibcFile.pwriteList}. */
const AIOCB_SIZE = 168;
const AIOCB = { fildes: 0, opcode: 4, buf: 16, nbytes: 24, sigevNotify: 32 + 12, offset: 128 };
/** `aio_error` value of a request still running. */
const EINPROGRESS = 115;
/** `lio_listio` constants: LIO_WRITE opcode, LIO_WAIT mode, SIGEV_NONE notification. */
const LIO_WRITE = 1;
const LIO_WAIT = 0;
const SIGEV_NONE = 1;

/** Most buffers one `pwritev` takes (`IOV_MAX` on Linux). */
export const IOV_MAX = 1024;

/** The address of a non-empty byte view (its first byte). */
function pointerOf(bytes: Uint8Array): Deno.PointerObject {
  const pointer = Deno.UnsafePointer.of(bytes);
  if (pointer === null) throw new RangeError("Cannot take the address of an empty buffer");
  return pointer;
}

let alignedBytesUsable: boolean | undefined;

/**
 * `sizeBytes` of zeroed JavaScript memory whose address is a multiple of `alignmentBytes`
 * (a view into a slightly larger ArrayBuffer), so O_DIRECT can write it without a bounce
 * copy; the garbage collector owns it. Falls back to an ordinary (unaligned) Uint8Array when
 * FFI is not permitted or `sizeBytes` is under 4 KiB (small ArrayBuffers may move).
 *
 * @param sizeBytes the length, >= 0
 * @param alignmentBytes a power of two, default 4096
 */
export function alignedBytes(sizeBytes: number, alignmentBytes = 4096): Uint8Array {
  if (sizeBytes < MOVABLE_SIZE_MAX) return new Uint8Array(sizeBytes);
  alignedBytesUsable ??= Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  if (!alignedBytesUsable) return new Uint8Array(sizeBytes);
  const whole = new Uint8Array(sizeBytes + alignmentBytes);
  const address = Number(Deno.UnsafePointer.value(pointerOf(whole)));
  const skip = (alignmentBytes - (address % alignmentBytes)) % alignmentBytes;
  return whole.subarray(skip, skip + sizeBytes);
}

/** Whether `bytes` starts at a multiple of `alignmentBytes` and may be used off the main thread. */
export function isAlignedBytes(bytes: Uint8Array, alignmentBytes: number): boolean {
  if (bytes.byteLength === 0 || bytes.buffer.byteLength < MOVABLE_SIZE_MAX) return false;
  alignedBytesUsable ??= Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  if (!alignedBytesUsable) return false;
  return Number(Deno.UnsafePointer.value(pointerOf(bytes))) % alignmentBytes === 0;
}

/**
 * Native memory from `posix_memalign`, seen as a Uint8Array. O_DIRECT needs buffers whose
 * address and length are multiples of the logical block size; JavaScript ArrayBuffers give
 * no such guarantee (and small ones may move), so direct I/O goes through these.
 * Call {@link NativeBuffer.free} exactly once; the views are invalid afterwards.
 */
export class NativeBuffer {
  #freed = false;
  readonly #owner: boolean;
  private constructor(
    /** Address of byte 0. */
    readonly pointer: Deno.PointerObject,
    /** The memory as bytes (a view over native memory, not a copy). */
    readonly bytes: Uint8Array,
    owner: boolean,
  ) {
    this.#owner = owner;
  }

  /**
   * Allocates `sizeBytes` of zeroed memory aligned to `alignmentBytes`.
   *
   * @param sizeBytes the length, > 0
   * @param alignmentBytes a power of two, default 4096
   * @throws {LibcError} when posix_memalign fails
   */
  static allocate(sizeBytes: number, alignmentBytes = 4096): NativeBuffer {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new RangeError(`Cannot allocate native buffer: size ${sizeBytes} is not positive`);
    }
    const out = new BigUint64Array(1);
    const errno = lib().posix_memalign(
      new Uint8Array(out.buffer),
      BigInt(alignmentBytes),
      BigInt(sizeBytes),
    );
    if (errno !== 0) fail("posix_memalign", `(${sizeBytes} bytes)`, errno);
    const pointer = Deno.UnsafePointer.create(out[0]!);
    if (pointer === null) fail("posix_memalign", `(${sizeBytes} bytes)`, 12);
    const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, sizeBytes));
    bytes.fill(0);
    return new NativeBuffer(pointer, bytes, true);
  }

  /** Length in bytes. */
  get byteLength(): number {
    return this.bytes.byteLength;
  }

  /**
   * A view of `[begin, end)` of this buffer sharing its memory (not owning it: free the parent).
   */
  subarray(begin: number, end = this.byteLength): NativeBuffer {
    if (begin < 0 || end > this.byteLength || begin > end) {
      throw new RangeError(`Cannot view native buffer [${begin}, ${end}) of ${this.byteLength}`);
    }
    const pointer = Deno.UnsafePointer.offset(this.pointer, begin);
    if (pointer === null) throw new RangeError("Cannot view native buffer: null pointer");
    return new NativeBuffer(pointer, this.bytes.subarray(begin, end), false);
  }

  /** Returns the memory to libc. Idempotent; a no-op on a {@link subarray} view. */
  free(): void {
    if (this.#freed || !this.#owner) return;
    this.#freed = true;
    lib().free(this.pointer);
  }
}

/**
 * An open file descriptor with positional I/O. I/O that may block (pread, pwrite, sync,
 * fallocate, discard) is async and runs off the main thread; metadata calls are synchronous.
 */
export class LibcFile {
  #fd: number;
  private constructor(fd: number, readonly path: string) {
    this.#fd = fd;
  }

  /**
   * `open(path, flags | O_CLOEXEC, mode)`.
   *
   * @param path file or device path
   * @param options `flags` from {@link O}; `mode` (default 0o644) applies with `O.CREAT`
   * @throws {LibcError} naming `open`, the path and errno (e.g. EINVAL for O_DIRECT on a
   *   filesystem that refuses it)
   */
  static open(path: string, options: { flags: number; mode?: number }): LibcFile {
    const cPath = new TextEncoder().encode(path + "\0");
    const fd = lib().open(cPath, options.flags | O.CLOEXEC, options.mode ?? 0o644);
    if (fd < 0) fail("open", path);
    return new LibcFile(fd, path);
  }

  /** The descriptor number (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  #checkOpen(call: string): number {
    if (this.#fd < 0) throw new LibcError(call, this.path, 9, "file is closed");
    return this.#fd;
  }

  /**
   * Reads up to `target.byteLength` bytes at `offsetBytes` (one `pread`).
   *
   * @returns the byte count read (0 at end of file)
   * @throws {LibcError} on failure
   */
  async pread(target: NativeBuffer, offsetBytes: number): Promise<number> {
    const fd = this.#checkOpen("pread");
    const args = [fd, target.pointer, BigInt(target.byteLength), BigInt(offsetBytes)] as const;
    const result = Number(await lib().pread_async(...args));
    if (result < 0) failAfterAsync("pread", this.path, () => lib().pread(...args));
    return result;
  }

  /**
   * Writes up to `source.byteLength` bytes at `offsetBytes` (one `pwrite`).
   *
   * @returns the byte count written
   * @throws {LibcError} on failure (ENOSPC, EIO, EINVAL for misaligned O_DIRECT I/O)
   */
  async pwrite(source: NativeBuffer, offsetBytes: number): Promise<number> {
    const fd = this.#checkOpen("pwrite");
    const args = [fd, source.pointer, BigInt(source.byteLength), BigInt(offsetBytes)] as const;
    const result = Number(await lib().pwrite_async(...args));
    if (result < 0) failAfterAsync("pwrite", this.path, () => lib().pwrite(...args));
    return result;
  }

  /** `fdatasync(2)`: makes written data (and the size) durable. */
  async fdatasync(): Promise<void> {
    const fd = this.#checkOpen("fdatasync");
    if ((await lib().fdatasync_async(fd)) < 0) {
      failAfterAsync("fdatasync", this.path, () => lib().fdatasync(fd));
    }
  }

  /** `fsync(2)`: makes data and all metadata durable. */
  async fsync(): Promise<void> {
    const fd = this.#checkOpen("fsync");
    if ((await lib().fsync_async(fd)) < 0) {
      failAfterAsync("fsync", this.path, () => lib().fsync(fd));
    }
  }

  /**
   * `fallocate(fd, PUNCH_HOLE | KEEP_SIZE, offset, length)`: frees the range; it reads as zeroes.
   *
   * @throws {LibcError} with code EOPNOTSUPP when the filesystem cannot punch holes
   */
  async punchHole(offsetBytes: number, lengthBytes: number): Promise<void> {
    const fd = this.#checkOpen("fallocate");
    const args = [
      fd,
      FALLOC_FL.PUNCH_HOLE | FALLOC_FL.KEEP_SIZE,
      BigInt(offsetBytes),
      BigInt(lengthBytes),
    ] as const;
    if ((await lib().fallocate_async(...args)) < 0) {
      failAfterAsync("fallocate", this.path, () => lib().fallocate(...args));
    }
  }

  /**
   * Like {@link pread}, into JavaScript memory (no bounce buffer for views of 4 KiB or more;
   * buffered files need no alignment). `target` stays referenced until the call returns, so its
   * memory cannot go away while the blocking-pool thread writes it.
   *
   * @returns the byte count read (0 at end of file)
   * @throws {LibcError} on failure
   */
  async preadInto(target: Uint8Array, offsetBytes: number): Promise<number> {
    this.#checkOpen("pread");
    if (target.byteLength === 0) return 0;
    if (target.byteLength < MOVABLE_SIZE_MAX) {
      const bounce = NativeBuffer.allocate(target.byteLength);
      try {
        const count = await this.pread(bounce, offsetBytes);
        target.set(bounce.bytes.subarray(0, count));
        return count;
      } finally {
        bounce.free();
      }
    }
    const fd = this.#checkOpen("pread");
    const args = [fd, pointerOf(target), BigInt(target.byteLength), BigInt(offsetBytes)] as const;
    const result = Number(await lib().pread_async(...args));
    if (result < 0) failAfterAsync("pread", this.path, () => lib().pread(...args));
    return result;
  }

  /**
   * Like {@link pwrite}, from JavaScript memory (see {@link preadInto}).
   *
   * @returns the byte count written
   * @throws {LibcError} on failure
   */
  async pwriteFrom(source: Uint8Array, offsetBytes: number): Promise<number> {
    this.#checkOpen("pwrite");
    if (source.byteLength === 0) return 0;
    if (source.byteLength < MOVABLE_SIZE_MAX) {
      const bounce = NativeBuffer.allocate(source.byteLength);
      try {
        bounce.bytes.set(source);
        return await this.pwrite(bounce, offsetBytes);
      } finally {
        bounce.free();
      }
    }
    const fd = this.#checkOpen("pwrite");
    const args = [fd, pointerOf(source), BigInt(source.byteLength), BigInt(offsetBytes)] as const;
    const result = Number(await lib().pwrite_async(...args));
    if (result < 0) failAfterAsync("pwrite", this.path, () => lib().pwrite(...args));
    return result;
  }

  /**
   * `pwritev(fd, parts, offset)`: writes the concatenation of `parts` at `offsetBytes` in one
   * call (at most {@link IOV_MAX} parts). `sync` runs it on this thread (for small writes to
   * the page cache, cheaper than a trip to the blocking pool), else it runs off the main
   * thread; then every part must lie in an ArrayBuffer of at least 4 KiB (V8 never moves
   * those, see {@link preadInto}).
   *
   * @returns the byte count written (possibly short, like pwrite)
   * @throws {LibcError} on failure
   */
  async pwritevFrom(
    parts: readonly Uint8Array[],
    offsetBytes: number,
    options: { sync: boolean },
  ): Promise<number> {
    const fd = this.#checkOpen("pwritev");
    if (parts.length === 0) return 0;
    if (parts.length > IOV_MAX) {
      throw new RangeError(`Cannot pwritev ${parts.length} parts: more than ${IOV_MAX}`);
    }
    // A synchronous call may use a JavaScript array (nothing moves during the call); the
    // blocking pool needs native memory.
    const native = options.sync ? undefined : NativeBuffer.allocate(parts.length * 16, 16);
    try {
      const words = native === undefined
        ? new BigUint64Array(parts.length * 2)
        : new BigUint64Array(native.bytes.buffer, native.bytes.byteOffset, parts.length * 2);
      for (const [index, part] of parts.entries()) {
        if (native !== undefined && part.buffer.byteLength < MOVABLE_SIZE_MAX) {
          throw new RangeError("Cannot pwritev a movable buffer off the main thread");
        }
        words[index * 2] = part.byteLength === 0
          ? 0n
          : BigInt(Deno.UnsafePointer.value(pointerOf(part)));
        words[index * 2 + 1] = BigInt(part.byteLength);
      }
      const iovec = native?.pointer ?? pointerOf(new Uint8Array(words.buffer));
      const args = [fd, iovec, parts.length, BigInt(offsetBytes)] as const;
      if (native === undefined) {
        const result = Number(lib().pwritev(...args));
        if (result < 0) fail("pwritev", this.path);
        return result;
      }
      const result = Number(await lib().pwritev_async(...args));
      if (result < 0) failAfterAsync("pwritev", this.path, () => lib().pwritev(...args));
      return result;
    } finally {
      native?.free();
    }
  }

  /**
   * Many `pwrite`s in one call off the main thread: `lio_listio(LIO_WAIT)` hands them to
   * glibc's AIO thread, which runs the requests of one descriptor one after another, so the
   * event loop pays one blocking-pool round trip for the whole list, not one per write. The
   * writes must not overlap (their order is not kept), and each `data` must lie in an
   * ArrayBuffer of at least 4 KiB (see {@link preadInto}).
   *
   * @returns per write, the byte count written, or -errno when it failed (a short count or an
   *   error is the caller's to finish or report, e.g. with {@link pwriteFrom})
   */
  async pwriteList(
    writes: readonly { offsetBytes: number; data: Uint8Array }[],
  ): Promise<number[]> {
    const fd = this.#checkOpen("lio_listio");
    const count = writes.length;
    if (count === 0) return [];
    // One native-heap ArrayBuffer (never moved by V8) holds the aiocbs, then the pointer list.
    const memory = new Uint8Array(Math.max(MOVABLE_SIZE_MAX, count * (AIOCB_SIZE + 8)));
    const view = new DataView(memory.buffer);
    const base = BigInt(Deno.UnsafePointer.value(pointerOf(memory)));
    const listOffset = count * AIOCB_SIZE;
    for (const [index, write] of writes.entries()) {
      if (write.data.buffer.byteLength < MOVABLE_SIZE_MAX || write.data.byteLength === 0) {
        throw new RangeError("Cannot lio_listio an empty or movable buffer");
      }
      const at = index * AIOCB_SIZE;
      view.setInt32(at + AIOCB.fildes, fd, true);
      view.setInt32(at + AIOCB.opcode, LIO_WRITE, true);
      view.setBigUint64(
        at + AIOCB.buf,
        BigInt(Deno.UnsafePointer.value(pointerOf(write.data))),
        true,
      );
      view.setBigUint64(at + AIOCB.nbytes, BigInt(write.data.byteLength), true);
      view.setInt32(at + AIOCB.sigevNotify, SIGEV_NONE, true);
      view.setBigInt64(at + AIOCB.offset, BigInt(write.offsetBytes), true);
      view.setBigUint64(listOffset + index * 8, base + BigInt(at), true);
    }
    const list = Deno.UnsafePointer.create(base + BigInt(listOffset));
    await lib().lio_listio_async(LIO_WAIT, list, count, null);
    const results: number[] = [];
    for (let index = 0; index < count; index++) {
      const cb = Deno.UnsafePointer.create(base + BigInt(index * AIOCB_SIZE));
      let errno = lib().aio_error(cb);
      // LIO_WAIT can return early (EINTR) with requests still running: their aiocbs and data
      // must stay alive and unread until glibc is done with them.
      while (errno === EINPROGRESS) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        errno = lib().aio_error(cb);
      }
      // Not started (lio_listio could not queue it) or failed: report -errno.
      results.push(errno === 0 ? Number(lib().aio_return(cb)) : -Math.max(errno, 1));
    }
    // Uses after the await keep `memory` (and the caller keeps `writes`) alive while the AIO
    // thread works: the garbage collector must not free them under it.
    if (memory.byteLength < count * AIOCB_SIZE || writes.length !== count) {
      throw new RangeError("Cannot lio_listio: the list changed");
    }
    return results;
  }

  /**
   * `preadv2(fd, [target], offset, RWF_NOWAIT)` on this thread: reads only what the page cache
   * holds, never waiting for the disk. A page-cache hit costs a few microseconds, less than a
   * trip to the blocking pool.
   *
   * @returns the byte count read (possibly short; 0 at end of file), -1 when the data is not
   *   cached (EAGAIN), -2 when the file does not support RWF_NOWAIT (EOPNOTSUPP)
   * @throws {LibcError} on any other error
   */
  preadCachedSync(target: Uint8Array, offsetBytes: number): number {
    const fd = this.#checkOpen("preadv2");
    if (target.byteLength === 0) return 0;
    const iovec = new BigUint64Array(2);
    iovec[0] = BigInt(Deno.UnsafePointer.value(pointerOf(target)));
    iovec[1] = BigInt(target.byteLength);
    const result = Number(
      lib().preadv2(fd, new Uint8Array(iovec.buffer), 1, BigInt(offsetBytes), RWF_NOWAIT),
    );
    if (result >= 0) return result;
    const errno = readErrno();
    if (errno === 11) return -1; // EAGAIN
    if (errno === 95) return -2; // EOPNOTSUPP
    fail("preadv2", this.path, errno);
  }

  /**
   * `fallocate(fd, ZERO_RANGE | KEEP_SIZE, offset, length)`, synchronously: the range reads as
   * zeroes without writing them (unwritten extents on ext4/xfs), the size is unchanged.
   *
   * @throws {LibcError} with code EOPNOTSUPP when the filesystem cannot zero ranges
   */
  zeroRangeSync(offsetBytes: number, lengthBytes: number): void {
    const fd = this.#checkOpen("fallocate");
    const mode = FALLOC_FL.ZERO_RANGE | FALLOC_FL.KEEP_SIZE;
    if (lib().fallocate(fd, mode, BigInt(offsetBytes), BigInt(lengthBytes)) < 0) {
      fail("fallocate", this.path);
    }
  }

  /** `lseek(fd, 0, SEEK_END)`: the size of a file or block device in bytes. */
  sizeBytes(): number {
    const fd = this.#checkOpen("lseek");
    const end = Number(lib().lseek(fd, 0n, SEEK.END));
    if (end < 0) fail("lseek", this.path);
    return end;
  }

  /**
   * `lseek(fd, offset, SEEK_DATA)`: the start of the first data at or after `offsetBytes`, or
   * null when only a hole follows (ENXIO). Filesystems without hole tracking report the whole
   * file as data.
   *
   * @throws {LibcError} on any other error
   */
  seekDataSync(offsetBytes: number): number | null {
    const fd = this.#checkOpen("lseek");
    const result = Number(lib().lseek(fd, BigInt(offsetBytes), SEEK.DATA));
    if (result >= 0) return result;
    const errno = readErrno();
    if (errno === ENXIO) return null;
    fail("lseek", this.path, errno);
  }

  /**
   * `lseek(fd, offset, SEEK_HOLE)`: the start of the first hole at or after `offsetBytes` (the
   * file end counts as a hole).
   *
   * @throws {LibcError} when lseek fails
   */
  seekHoleSync(offsetBytes: number): number {
    const fd = this.#checkOpen("lseek");
    const result = Number(lib().lseek(fd, BigInt(offsetBytes), SEEK.HOLE));
    if (result < 0) fail("lseek", this.path);
    return result;
  }

  /** `fstatfs(2)` `f_type`: the filesystem magic (compare with {@link TMPFS_MAGIC}). */
  fileSystemType(): number {
    const fd = this.#checkOpen("fstatfs");
    const statfs = new Uint8Array(120); // sizeof(struct statfs) on x86-64
    if (lib().fstatfs(fd, statfs) < 0) fail("fstatfs", this.path);
    // f_type is a `long` at offset 0; magic numbers fit in 32 bits.
    return new DataView(statfs.buffer).getUint32(0, true);
  }

  /**
   * O_DIRECT alignment from `statx(STATX_DIOALIGN)` (Linux 6.1+, regular files).
   *
   * @returns `{ memoryBytes, offsetBytes }` (offsetBytes also applies to lengths; 0 means the
   *   file does not support O_DIRECT), or undefined when the kernel or filesystem does not say
   */
  directIoAlignment(): { memoryBytes: number; offsetBytes: number } | undefined {
    const fd = this.#checkOpen("statx");
    const statx = new Uint8Array(256); // sizeof(struct statx)
    const empty = new Uint8Array(1); // "" (AT_EMPTY_PATH: stat the fd itself)
    if (lib().statx(fd, empty, AT_EMPTY_PATH, STATX_DIOALIGN, statx) < 0) fail("statx", this.path);
    const view = new DataView(statx.buffer);
    if ((view.getUint32(0, true) & STATX_DIOALIGN) === 0) return undefined;
    // stx_dio_mem_align at 152, stx_dio_offset_align at 156.
    return { memoryBytes: view.getUint32(152, true), offsetBytes: view.getUint32(156, true) };
  }

  /**
   * `ioctl(fd, request, buffer)` with a buffer the kernel reads and/or writes.
   *
   * @throws {LibcError} naming the request number in hex
   */
  ioctl(request: number, buffer: Uint8Array): void {
    const fd = this.#checkOpen("ioctl");
    if (lib().ioctl(fd, BigInt(request), buffer) < 0) {
      fail(`ioctl 0x${request.toString(16)}`, this.path);
    }
  }

  /** `ioctl(fd, request, value)` passing an integer argument (no buffer). */
  ioctlValue(request: number, value: bigint): void {
    const fd = this.#checkOpen("ioctl");
    if (lib().ioctl_value(fd, BigInt(request), value) < 0) {
      fail(`ioctl 0x${request.toString(16)}`, this.path);
    }
  }

  /** Like {@link ioctl} but off the main thread, for slow requests (discard, zero-out). */
  async ioctlAsync(request: number, buffer: Uint8Array): Promise<void> {
    const fd = this.#checkOpen("ioctl");
    if ((await lib().ioctl_async(fd, BigInt(request), buffer)) < 0) {
      failAfterAsync(
        `ioctl 0x${request.toString(16)}`,
        this.path,
        () => lib().ioctl(fd, BigInt(request), buffer),
      );
    }
  }

  /** `ioctl` returning a u64 the kernel writes (e.g. BLKGETSIZE64). */
  ioctlGetU64(request: number): bigint {
    const out = new BigUint64Array(1);
    this.ioctl(request, new Uint8Array(out.buffer));
    return out[0]!;
  }

  /** `ioctl` returning a 32-bit int the kernel writes (e.g. BLKPBSZGET, BLKSSZGET). */
  ioctlGetU32(request: number): number {
    const out = new Uint32Array(2); // 8 bytes: room to spare if the kernel writes a long
    this.ioctl(request, new Uint8Array(out.buffer));
    return out[0]!;
  }

  /** `close(2)`. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    if (lib().close(fd) < 0) fail("close", this.path);
  }
}

/** Size of a block device in bytes (`BLKGETSIZE64`). */
export function blockDeviceSizeBytes(file: LibcFile): bigint {
  return file.ioctlGetU64(BLOCK_IOCTL.BLKGETSIZE64);
}

/** Physical block size of a block device (`BLKPBSZGET`). */
export function blockDevicePhysicalBlockSize(file: LibcFile): number {
  return file.ioctlGetU32(BLOCK_IOCTL.BLKPBSZGET);
}

/** Logical sector size of a block device (`BLKSSZGET`), the O_DIRECT alignment unit. */
export function blockDeviceLogicalBlockSize(file: LibcFile): number {
  return file.ioctlGetU32(BLOCK_IOCTL.BLKSSZGET);
}

function rangeArgument(offsetBytes: number, lengthBytes: number): Uint8Array {
  return new Uint8Array(BigUint64Array.of(BigInt(offsetBytes), BigInt(lengthBytes)).buffer);
}

/** `BLKDISCARD` over `[offsetBytes, offsetBytes + lengthBytes)` (both sector aligned). */
export function blockDeviceDiscard(
  file: LibcFile,
  range: { offsetBytes: number; lengthBytes: number },
): Promise<void> {
  return file.ioctlAsync(
    BLOCK_IOCTL.BLKDISCARD,
    rangeArgument(range.offsetBytes, range.lengthBytes),
  );
}

/** `BLKZEROOUT` over `[offsetBytes, offsetBytes + lengthBytes)` (both sector aligned). */
export function blockDeviceZeroOut(
  file: LibcFile,
  range: { offsetBytes: number; lengthBytes: number },
): Promise<void> {
  return file.ioctlAsync(
    BLOCK_IOCTL.BLKZEROOUT,
    rangeArgument(range.offsetBytes, range.lengthBytes),
  );
}

/** `BLKFLSBUF`: drops the device's buffer cache (needs CAP_SYS_ADMIN). */
export function blockDeviceFlushBuffers(file: LibcFile): void {
  file.ioctlValue(BLOCK_IOCTL.BLKFLSBUF, 0n);
}
