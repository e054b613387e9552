import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { SerialReader, SerialTruncatedError } from "./reader.ts";
import { encodeVarInt, fitsVarIntType, type VarIntType, VI32, VI64, VU32, VU64 } from "./varint.ts";
import { serialize, SerialWriter } from "./writer.ts";
import { seededPrng } from "../../testing/random.ts";

const hex = (text: string) => text.replaceAll(" ", "").toLowerCase();
const enc = (value: bigint, type: VarIntType) => toHex(Uint8Array.from(encodeVarInt(value, type)));

/** Seeded PRNG (mulberry32); SEED=n replays a run. */
/** Uniform [0, 1) numbers from the shared seeded generator (prints the seed; SEED=n replays). */
function seededRandom(name: string): () => number {
  const prng = seededPrng(name);
  return () => prng.next();
}

Deno.test("encodeVarInt() matches the §12 examples", () => {
  assertEquals(enc(0n, VU64), "00");
  assertEquals(enc(127n, VU64), "7f");
  assertEquals(enc(128n, VU64), hex("80 80"));
  assertEquals(enc(200n, VU64), hex("80 C8"));
  assertEquals(enc(300n, VU64), hex("81 2C 01"));
  assertEquals(enc(65536n, VU64), hex("82 00 00 01 00"));
  assertEquals(enc(1n << 32n, VU64), hex("83 00 00 00 00 01 00 00 00"));
  assertEquals(enc((1n << 64n) - 1n, VU64), "ff");
  assertEquals(enc((1n << 64n) - 200n, VU64), hex("85 38 FF"));
  assertEquals(enc(0x80000000n, VU32), hex("82 00 00 00 80"));
  assertEquals(enc(0xffffffffn, VU32), "ff");
  assertEquals(enc(-129n, VI64), hex("85 7F FF"));
});

Deno.test("encodeVarInt() matches the wire worked examples", () => {
  assertEquals(enc(132n, VU32), hex("80 84"));
  assertEquals(enc(132n, VU64), hex("80 84"));
  assertEquals(enc(-124n, VI32), hex("84 84"));
  assertEquals(enc(-1n, VI32), "ff");
  assertEquals(enc(0xffffffffn, VU64), hex("82 FF FF FF FF"));
  assertEquals(enc(300n, VU32), hex("81 2C 01"));
  assertEquals(enc(0x626c6177n, VU32), hex("82 77 61 6C 62"));
  assertEquals(enc(0xffffffffffff8000n, VU64), hex("85 00 80"));
  assertEquals(enc(0xffffffff80000000n, VU64), hex("86 00 00 00 80"));
  assertEquals(enc(0x80n - 0x100n, VI32), hex("84 80"));
  assertEquals(enc(-0x79n, VI32), hex("84 87"));
});

Deno.test("SerialWriter strings, vectors and maps match the examples", () => {
  assertEquals(toHex(serialize((w) => w.string("Archived"))), hex("08 41 72 63 68 69 76 65 64"));
  assertEquals(toHex(serialize((w) => w.string("ok"))), hex("02 6F 6B"));
  assertEquals(toHex(serialize((w) => w.string("accept"))), hex("06 61 63 63 65 70 74"));
  assertEquals(toHex(serialize((w) => w.string(""))), "00");
  assertEquals(
    toHex(serialize((w) => w.stringVector(["state", "vol0"]))),
    hex("02 05 73 74 61 74 65 04 76 6F 6C 30"),
  );
  const map = serialize((w) =>
    w.map([["a", 1n], ["b", 300n]], (w, k) => w.string(k), (w, v) => w.u64(v))
  );
  assertEquals(toHex(map), hex("02 01 61 01 01 62 81 2C 01"));
  const read = new SerialReader(map).map("m", (r) => r.string("k"), (r) => r.u64("v"));
  assertEquals([...read], [["a", 1n], ["b", 300n]]);
});

Deno.test("SerialWriter fixed-width fields are raw little-endian", () => {
  const bytes = serialize((w) =>
    w.bool(true).bool(false).u8(0x87).u16(10000).bytes(Uint8Array.of(9, 8))
  );
  assertEquals(toHex(bytes), hex("01 00 87 10 27 09 08"));
});

Deno.test("SerialReader decodes every header form and narrows to the target", () => {
  const r = (bytes: number[]) => new SerialReader(Uint8Array.from(bytes));
  assertEquals(r([0xff]).u64("x"), (1n << 64n) - 1n);
  assertEquals(r([0xff]).u32("x"), 0xffffffff);
  assertEquals(r([0xff]).i32("x"), -1);
  assertEquals(r([0x88]).i64("x"), -120n);
  assertEquals(r([0x87, 1, 0, 0, 0, 0, 0, 0, 0x80]).i64("x"), -(1n << 63n) + 1n);
  assertEquals(
    r([0x87, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).u64("x"),
    (1n << 64n) - 2n,
  );
  assertEquals(r([0x86, 0, 0, 0, 0x80]).u32("x"), 0x80000000);
  assertEquals(r([0x82, 0, 0, 0, 0x80]).i32("x"), -0x80000000);
  assertEquals(r([0x84, 0x80]).u64("x"), (1n << 64n) - 128n);
  assertEquals(r([0x80, 0x80]).u32("x"), 128);
  assertEquals(r([0x02]).bool("b"), true);
  assertThrows(() => r([0x83, 0, 0, 0, 0, 0, 0, 0, 0]).u32("x"), CorruptDataError, "bad header");
  assertThrows(() => r([0x87, 0, 0, 0, 0, 0, 0, 0, 0]).i32("x"), CorruptDataError, "bad header");
});

Deno.test("SerialReader reports truncation with the missing size and offset", () => {
  const reader = new SerialReader(Uint8Array.of(0x05, 0x83, 1, 2), { baseOffset: 100 });
  assertEquals(reader.u64("a"), 5n);
  const error = assertThrows(() => reader.u64("gid"), SerialTruncatedError);
  assertEquals(error.offset, 101);
  assertEquals(error.missingSize, 6);
  assertEquals(reader.position, 1);
  assert(error instanceof CorruptDataError);
  assertThrows(() => new SerialReader(Uint8Array.of(10, 0x61)).string("s"), SerialTruncatedError);
  assertThrows(
    () => new SerialReader(Uint8Array.of(0x82, 1, 0, 0, 1)).string("s"),
    LimitExceededError,
  );
  assertThrows(
    () => new SerialReader(Uint8Array.of(0x82, 0, 0, 0x20, 0)).vector("v", (r) => r.u8("e")),
    LimitExceededError,
  );
  assertThrows(
    () => new SerialReader(Uint8Array.of(0x80, 200, 1)).vector("v", (r) => r.u8("e")),
    SerialTruncatedError,
  );
  assertThrows(
    () => new SerialReader(Uint8Array.of(0x12, 0x03)).preamble(0x0311, "s"),
    CorruptDataError,
  );
});

type Field =
  | { kind: "bool"; value: boolean }
  | { kind: "u8" | "u16" | "i32" | "u32"; value: number }
  | { kind: "i64" | "u64"; value: bigint }
  | { kind: "string"; value: string }
  | { kind: "vector"; value: bigint[] };

function randomBig(random: () => number, type: VarIntType): bigint {
  // Mix small values, values near the ends of the range and values of every bit length.
  const width = BigInt(type.width);
  const min = type.signed ? -(1n << (width - 1n)) : 0n;
  const max = min + (1n << width) - 1n;
  const small = BigInt(Math.floor(random() * 600) - 300);
  const bits = BigInt(Math.floor(random() * (type.width + 1)));
  let magnitude = 0n;
  for (let i = 0n; i < bits; i += 16n) {
    magnitude = (magnitude << 16n) | BigInt(Math.floor(random() * 65536));
  }
  magnitude &= (1n << bits) - 1n;
  const choice = Math.floor(random() * 4);
  const value = choice === 0
    ? small
    : choice === 1
    ? max - BigInt(Math.floor(random() * 300))
    : choice === 2
    ? min + magnitude
    : magnitude;
  const clamped = value < min ? min : value > max ? max : value;
  assert(fitsVarIntType(clamped, type), "generated value fits");
  return clamped;
}

function randomField(random: () => number): Field {
  switch (Math.floor(random() * 9)) {
    case 0:
      return { kind: "bool", value: random() < 0.5 };
    case 1:
      return { kind: "u8", value: Math.floor(random() * 256) };
    case 2:
      return { kind: "u16", value: Math.floor(random() * 65536) };
    case 3:
      return { kind: "i32", value: Number(randomBig(random, VI32)) };
    case 4:
      return { kind: "u32", value: Number(randomBig(random, VU32)) };
    case 5:
      return { kind: "i64", value: randomBig(random, VI64) };
    case 6:
      return { kind: "u64", value: randomBig(random, VU64) };
    case 7:
      return { kind: "string", value: "x".repeat(Math.floor(random() * 300)) };
    default:
      return {
        kind: "vector",
        value: Array.from({ length: Math.floor(random() * 5) }, () => randomBig(random, VU64)),
      };
  }
}

function writeField(w: SerialWriter, f: Field): void {
  switch (f.kind) {
    case "bool":
      w.bool(f.value);
      break;
    case "u8":
    case "u16":
    case "i32":
    case "u32":
      w[f.kind](f.value);
      break;
    case "i64":
    case "u64":
      w[f.kind](f.value);
      break;
    case "string":
      w.string(f.value);
      break;
    case "vector":
      w.vector(f.value, (w, v) => w.u64(v));
  }
}

function readField(r: SerialReader, kind: Field["kind"]): Field {
  switch (kind) {
    case "bool":
      return { kind, value: r.bool("f") };
    case "u8":
    case "u16":
    case "i32":
    case "u32":
      return { kind, value: r[kind]("f") };
    case "i64":
    case "u64":
      return { kind, value: r[kind]("f") };
    case "string":
      return { kind, value: r.string("f") };
    case "vector":
      return { kind, value: r.vector("f", (r) => r.u64("e")) };
  }
}

Deno.test("SerialWriter/SerialReader round trip random values of each type", () => {
  const random = seededRandom("serializer round trip");
  for (let round = 0; round < 300; round++) {
    const fields = Array.from({ length: 1 + Math.floor(random() * 12) }, () => randomField(random));
    const bytes = serialize((w) => fields.forEach((f) => writeField(w, f)));
    const reader = new SerialReader(bytes);
    const back = fields.map((f) => readField(reader, f.kind));
    assertEquals(back, fields);
    assert(reader.atEnd);
  }
});

Deno.test("SerialReader on mutated bytes throws only CorruptDataError or LimitExceededError", () => {
  const random = seededRandom("serializer mutation");
  for (let round = 0; round < 500; round++) {
    const fields = Array.from({ length: 1 + Math.floor(random() * 8) }, () => randomField(random));
    const bytes = serialize((w) => fields.forEach((f) => writeField(w, f)));
    const mutated = bytes.slice(0, Math.max(0, bytes.length - Math.floor(random() * 3)));
    for (let k = 0; k < 3 && mutated.length > 0; k++) {
      mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
    }
    try {
      const reader = new SerialReader(mutated);
      for (const f of fields) readField(reader, f.kind);
    } catch (error) {
      if (!(error instanceof CorruptDataError) && !(error instanceof LimitExceededError)) {
        throw error;
      }
    }
  }
});

Deno.test("SerialWriter field sequence of HostInfoForBkp matches the §12 example", () => {
  // AddrPort (string, u16), CompressOpt (u8 type, u8 level, u8 numCpu), u32 delay.
  const bytes = serialize((w) => w.string("192.168.0.1").u16(10000).u8(5).u8(3).u8(2).u32(60));
  assertEquals(toHex(bytes), hex("0B 31 39 32 2E 31 36 38 2E 30 2E 31 10 27 05 03 02 3C"));
  const r = new SerialReader(bytes);
  assertEquals(
    [r.string("addr"), r.u16("port"), r.u8("type"), r.u8("level"), r.u8("cpu"), r.u32("delay")],
    ["192.168.0.1", 10000, 5, 3, 2, 60],
  );
  assert(r.atEnd);
});
