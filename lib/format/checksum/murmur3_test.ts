import { assertEquals } from "../../testing/assert.ts";
import { murmurHash3x64128, murmurHex, MurmurStreamHasher } from "./murmur3.ts";

const text = (s: string) => new TextEncoder().encode(s);
const hash = (bytes: Uint8Array, seed = 0) => murmurHex(murmurHash3x64128(bytes, seed));

Deno.test("murmurHash3x64128() matches the wdiff-and-archive §20 vectors", () => {
  assertEquals(hash(text("foo")), "6145f501578671e2877dba2be487af7e");
  assertEquals(hash(new Uint8Array(0)), "00000000000000000000000000000000");
  assertEquals(hash(new Uint8Array(512)), "b48245564341058ce6f6fcdffde99437");
  assertEquals(hash(new Uint8Array(512), 1388631845), "181c7298cd486696e2b4b2143327a38d");
  assertEquals(hash(new Uint8Array(262144)), "c0b3c7ec2442c57531985959fff2cc9f");
});

Deno.test("murmurHash3x64128() matches the device-and-wlog §1.2 vectors", () => {
  assertEquals(hash(text("hello")), "029bbd41b3a7d8cb191dae486a901e5b");
  assertEquals(
    hash(text("The quick brown fox jumps over the lazy dog")),
    "6c1b07bc7bbc4be347939ac4a93c437a",
  );
  assertEquals(hash(new Uint8Array(4096)), "7afbb38094fec46a1cb2d61a050370fb");
  assertEquals(hash(new Uint8Array(512), 1), "b28408b289df6e3e8575ace1db3336f4");
});

Deno.test("murmurHash3x64128() is the same on unaligned views", () => {
  const backing = new Uint8Array(1001).map((_, i) => (i * 97 + 13) & 0xff);
  for (const size of [0, 1, 7, 8, 9, 15, 16, 17, 31, 999]) {
    const unaligned = backing.subarray(1, 1 + size);
    assertEquals(hash(unaligned, 77), hash(unaligned.slice(), 77));
  }
});

Deno.test("MurmurStreamHasher XORs per-buffer hashes with incrementing seeds", () => {
  const hasher = new MurmurStreamHasher(0);
  hasher.push(new Uint8Array(512));
  hasher.push(new Uint8Array(512));
  assertEquals(murmurHex(hasher.digest()), "06064de4ca9e6bb26383503e26daa2c3");
  assertEquals(hasher.seed, 2);
  const wrap = new MurmurStreamHasher(0xffffffff);
  wrap.push(new Uint8Array(3));
  assertEquals(wrap.seed, 0);
  assertEquals(murmurHex(wrap.digest()), hash(new Uint8Array(3), 0xffffffff));
});

Deno.test("murmurHash3x64128() stability over many fixed inputs", () => {
  const hasher = new MurmurStreamHasher(12345);
  for (let n = 0; n < 300; n++) {
    hasher.push(new Uint8Array(n).map((_, i) => (i * 37 + n * 11) & 0xff));
  }
  assertEquals(murmurHex(hasher.digest()), "611a8272ec474c1879b383ed29972d0d");
});
