import { assertEquals } from "../../testing/assert.ts";
import { PackPayloadRelease, releaseWholeBuffer } from "./buffer_release.ts";

Deno.test("releaseWholeBuffer() frees only a buffer's sole whole view", () => {
  const bytes = new Uint8Array(1024);
  releaseWholeBuffer(bytes.subarray(0, 512));
  assertEquals(bytes.buffer.detached, false);
  const shared = new Uint8Array(new SharedArrayBuffer(64));
  releaseWholeBuffer(shared);
  assertEquals(shared.length, 64);
  releaseWholeBuffer(bytes);
  assertEquals(bytes.buffer.detached, true);
  releaseWholeBuffer(bytes); // already detached: nothing happens
});

Deno.test("PackPayloadRelease frees payloads in any order once the output passes their end", () => {
  const release = new PackPayloadRelease();
  const a = new Uint8Array(16);
  const b = new Uint8Array(16);
  const c = new Uint8Array(16);
  release.add(a, 100); // stream 1
  release.add(b, 50); // stream 2, lower addresses
  release.add(c, 300);
  release.releaseThrough(60);
  assertEquals([a, b, c].map((p) => p.buffer.detached), [false, true, false]);
  release.releaseThrough(299);
  assertEquals([a, c].map((p) => p.buffer.detached), [true, false]);
  assertEquals(release.size, 1);
  release.releaseThrough(300);
  assertEquals(c.buffer.detached, true);
  assertEquals(release.size, 0);
});
