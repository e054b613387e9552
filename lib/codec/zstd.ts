import { type Codec, CompressionType } from "./codec.ts";
import { codecError } from "./codec_error.ts";
/** Placeholder until the zstd codec lands. */
export const zstdCodec: Codec = {
  type: CompressionType.zstd,
  name: "zstd",
  compress(): Uint8Array {
    throw new Error("zstd codec not implemented yet");
  },
  decompress(): Uint8Array {
    throw codecError("zstd", "zstd codec not implemented yet");
  },
};
