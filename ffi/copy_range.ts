/**
 * `copy_file_range(2)` (x86-64 Linux, glibc): copies a byte range between two open files inside
 * the kernel, so the bytes never pass through JavaScript memory (and filesystems that share
 * extents, such as XFS or Btrfs, may reflink instead of copying). Lazy like ffi/libc.ts: loading
 * happens on the first call. The call is nonblocking (runs on Deno's blocking pool); on failure it
 * is replayed synchronously to learn errno (copying the same range again is harmless).
 *
 * @module
 */
import { LibcError, type LibcFile, NativeBuffer } from "./libc.ts";

const SYMBOLS = {
  copy_file_range: {
    parameters: ["i32", "pointer", "i32", "pointer", "usize", "u32"],
    result: "isize",
  },
  copy_file_range_async: {
    name: "copy_file_range",
    parameters: ["i32", "pointer", "i32", "pointer", "usize", "u32"],
    result: "isize",
    nonblocking: true,
  },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | undefined;

function lib(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (symbols === undefined) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

function readErrno(): number {
  const location = lib().__errno_location();
  return location === null ? 0 : new Deno.UnsafePointerView(location).getInt32();
}

/** errno values the caller may want to fall back from (no in-kernel copy for these files). */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  5: "EIO",
  18: "EXDEV",
  22: "EINVAL",
  28: "ENOSPC",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
};

/**
 * Whether `error` says these files cannot be copied by {@link copyFileRange} (EXDEV, EINVAL,
 * EOPNOTSUPP, ENOSYS): the caller should copy through memory instead.
 */
export function isCopyRangeUnsupported(error: unknown): boolean {
  return error instanceof LibcError && error.call === "copy_file_range" &&
    [18, 22, 38, 95].includes(error.errno);
}

/**
 * Copies up to `lengthBytes` from `source` at `sourceOffset` to `target` at `targetOffset`
 * (one `copy_file_range` call; the file positions are not used or changed).
 *
 * @returns the byte count copied (0 at the end of `source`)
 * @throws {LibcError} naming `copy_file_range` (codes EXDEV, EINVAL, EOPNOTSUPP, ENOSYS when
 *   these files cannot be copied this way; ENOSPC, EIO)
 */
export async function copyFileRange(
  source: LibcFile,
  sourceOffset: number,
  target: LibcFile,
  targetOffset: number,
  lengthBytes: number,
): Promise<number> {
  // Offsets live in native memory: the blocking-pool thread reads and updates them.
  const offsets = NativeBuffer.allocate(16, 8);
  try {
    const view = new DataView(offsets.bytes.buffer, offsets.bytes.byteOffset, 16);
    const set = () => {
      view.setBigInt64(0, BigInt(sourceOffset), true);
      view.setBigInt64(8, BigInt(targetOffset), true);
    };
    set();
    const offIn = offsets.pointer;
    const offOut = offsets.subarray(8).pointer;
    const args = [source.fd, offIn, target.fd, offOut, BigInt(lengthBytes), 0] as const;
    const result = Number(await lib().copy_file_range_async(...args));
    if (result >= 0) return result;
    set();
    const replay = Number(lib().copy_file_range(...args));
    const errno = replay < 0 ? readErrno() : 0;
    const detail = errno === 0 ? "errno lost" : ERRNO_NAMES[errno] ?? `errno ${errno}`;
    throw new LibcError("copy_file_range", `${source.path} -> ${target.path}`, errno, detail);
  } finally {
    offsets.free();
  }
}
