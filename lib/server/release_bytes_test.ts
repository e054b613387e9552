import { assertEquals } from "../testing/assert.ts";
import { releaseBytes } from "./release_bytes.ts";

Deno.test("releaseBytes() frees a whole buffer and leaves views and wasm memory alone", () => {
  const whole = new Uint8Array(4096);
  releaseBytes(whole);
  assertEquals(whole.buffer.detached, true);
  const parent = new Uint8Array(4096);
  releaseBytes(parent.subarray(0, 1024));
  assertEquals(parent.buffer.detached, false);
  assertEquals(parent.length, 4096);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new Uint8Array(memory.buffer);
  releaseBytes(view);
  assertEquals(view.length, 65536);
  releaseBytes(whole); // already released: nothing to do
});
