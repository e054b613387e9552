import { assert, assertEquals, assertThrows } from "../lib/testing/assert.ts";
import { xz } from "@napi-rs/lzma";
import { LiblzmaError, loadLiblzma } from "./liblzma.ts";

const lzma = loadLiblzma();
const ignore = lzma === undefined;

function sample(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 27;
  return bytes;
}

Deno.test({
  name: "loadLiblzma() encodes .xz that both decoders read back",
  ignore,
  fn() {
    for (const size of [0, 1, 512, 65536]) {
      const data = sample(size);
      for (const preset of [1, 6]) {
        const stored = lzma!.encode(data, preset);
        assertEquals([...stored.subarray(0, 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
        assertEquals(lzma!.decode(stored, size, 1 << 27), data);
        assertEquals(new Uint8Array(xz.decompressSync(stored)), data);
      }
    }
  },
});

Deno.test({
  name: "loadLiblzma() decode refuses wrong sizes, trailing bytes and corrupt data",
  ignore,
  fn() {
    const data = sample(8192);
    const stored = lzma!.encode(data, 6);
    assertThrows(() => lzma!.decode(stored, 4096, 1 << 27), LiblzmaError);
    assertThrows(() => lzma!.decode(stored, 16384, 1 << 27), RangeError);
    const padded = new Uint8Array(stored.length + 3);
    padded.set(stored);
    padded[stored.length] = 1;
    assertThrows(() => lzma!.decode(padded, 8192, 1 << 27), Error);
    const broken = stored.slice();
    broken[broken.length >> 1]! ^= 0x55;
    assertThrows(() => lzma!.decode(broken, 8192, 1 << 27), LiblzmaError);
    assert(lzma!.decode(stored, 8192, 1 << 27).length === 8192, "intact stream still decodes");
  },
});
