import { type Codec, CompressionType } from "./codec.ts";
import { codecError } from "./codec_error.ts";
/** Placeholder until the LZ4 block codec lands. */
export const lz4Codec: Codec = {
  type: CompressionType.lz4,
  name: "lz4",
  compress(): Uint8Array {
    throw new Error("lz4 codec not implemented yet");
  },
  decompress(): Uint8Array {
    throw codecError("lz4", "lz4 codec not implemented yet");
  },
};
