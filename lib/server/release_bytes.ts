/**
 * Frees a byte buffer's memory at once instead of when V8's collector next finds it
 * unreachable: the collector runs late when most memory is outside its heap, so servers
 * streaming 128 MiB wlogs and 32 MiB wdiff packs held several dead buffers at their peak.
 *
 * @module
 */

/**
 * Detaches the buffer of `bytes` (its memory is freed) when `bytes` spans the whole buffer.
 * Only the owner may call it: nothing else may hold a view of the buffer. A view of part of
 * a buffer, an already detached buffer and a non-detachable one (WebAssembly memory) are
 * left alone.
 *
 * @param bytes bytes whose buffer the caller owns and no longer needs
 * @example
 * ```ts
 * import { releaseBytes } from "./release_bytes.ts";
 * const bytes = new Uint8Array(1024);
 * releaseBytes(bytes);
 * if (bytes.length !== 0) throw new Error("not released");
 * ```
 */
export function releaseBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  try {
    buffer.transfer(0);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // non-detachable: freed by the collector
  }
}
