import { type Codec, CompressionType } from "./codec.ts";
import { codecError } from "./codec_error.ts";
/** Placeholder until the xz codec lands. */
export const lzmaCodec: Codec = {
  type: CompressionType.lzma,
  name: "lzma",
  compress(): Uint8Array {
    throw new Error("lzma codec not implemented yet");
  },
  decompress(): Uint8Array {
    throw codecError("lzma", "lzma codec not implemented yet");
  },
};
