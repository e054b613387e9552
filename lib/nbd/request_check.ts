/**
 * Checks one NBD request against an export before anything is allocated or called: known
 * command and flags, writes allowed, alignment, length and range.
 *
 * @module
 */
import type { NbdBackend } from "./backend.ts";
import {
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_EPERM,
  type NbdRequest,
} from "./protocol.ts";

const ACCEPTED_FLAGS = NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_DF;

/**
 * The NBD error value a request must be answered with, or 0 when the backend may run it.
 * NBD_CMD_DISC is handled by the caller and never reaches here.
 *
 * - unknown command or flag, trim/zeroes not advertised: NBD_EINVAL
 * - write-like command on a read-only export: NBD_EPERM
 * - offset or length not a multiple of the minimum block size: NBD_EINVAL
 * - READ/WRITE longer than the maximum block size: NBD_EINVAL
 * - range past the end: NBD_EINVAL for READ, NBD_ENOSPC for write-like commands
 *
 * @example
 * ```ts
 * import { checkRequest } from "./request_check.ts";
 * const backend = { sizeBytes: 4096, readOnly: false, canTrim: false, canWriteZeroes: false,
 *   blockSizes: { minimum: 512, preferred: 4096, maximum: 4096 } };
 * const request = { flags: 0, type: 0, handleHigh: 0, handleLow: 0, offset: 4096, length: 512 };
 * if (checkRequest(request, backend) !== 22) throw new Error("read past the end is EINVAL");
 * ```
 */
export function checkRequest(
  request: NbdRequest,
  backend: Pick<NbdBackend, "sizeBytes" | "blockSizes" | "readOnly" | "canTrim" | "canWriteZeroes">,
): number {
  const { type, offset, length } = request;
  if ((request.flags & ~ACCEPTED_FLAGS) !== 0) return NBD_EINVAL;
  switch (type) {
    case NBD_CMD_FLUSH:
      return 0;
    case NBD_CMD_READ:
    case NBD_CMD_WRITE:
      break;
    case NBD_CMD_TRIM:
      if (!backend.canTrim) return NBD_EINVAL;
      break;
    case NBD_CMD_WRITE_ZEROES:
      if (!backend.canWriteZeroes) return NBD_EINVAL;
      break;
    default:
      return NBD_EINVAL;
  }
  const writeLike = type !== NBD_CMD_READ;
  if (writeLike && backend.readOnly) return NBD_EPERM;
  const minimum = backend.blockSizes.minimum;
  if (offset % minimum !== 0 || length % minimum !== 0) return NBD_EINVAL;
  const payload = type === NBD_CMD_READ || type === NBD_CMD_WRITE;
  if (payload && length > backend.blockSizes.maximum) return NBD_EINVAL;
  if (offset > backend.sizeBytes || length > backend.sizeBytes - offset) {
    return writeLike ? NBD_ENOSPC : NBD_EINVAL;
  }
  return 0;
}
