/**
 * Codec 0 (`none`): stored bytes are the raw data.
 *
 * @module
 */
import { type Codec, CompressionType } from "./codec.ts";
import { requireSize } from "./codec_error.ts";

/** The identity codec; `compress` copies so callers may reuse their input buffer. */
export const noneCodec: Codec = {
  type: CompressionType.none,
  name: "none",
  compress(input: Uint8Array, _level: number): Uint8Array {
    return input.slice();
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    return requireSize("none", input.slice(), outputSize);
  },
};
