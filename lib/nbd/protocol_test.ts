import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { assertEquals, assertThrows, toHex } from "../testing/assert.ts";
import {
  decodeClientFlags,
  decodeInfo,
  decodeInfoRequest,
  decodeName,
  decodeOptionHeader,
  decodeOptionReply,
  decodeRequest,
  decodeSimpleReply,
  encodeClientFlags,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoDescription,
  encodeInfoExport,
  encodeInfoName,
  encodeInfoRequest,
  encodeOption,
  encodeOptionReply,
  encodeRequest,
  encodeServerEntry,
  encodeSimpleReply,
  NBD_CMD_WRITE,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_SEND_FLUSH,
  NBD_INFO_BLOCK_SIZE,
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_REP_ACK,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  writeSimpleReplyHeader,
} from "./protocol.ts";

Deno.test("encodeGreeting() writes NBDMAGIC, IHAVEOPT and the flags", () => {
  const bytes = encodeGreeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
  assertEquals(toHex(bytes), "4e42444d41474943" + "49484156454f5054" + "0003");
  assertEquals(new TextDecoder().decode(bytes.subarray(0, 16)), "NBDMAGICIHAVEOPT");
});

Deno.test("decodeClientFlags() reads a big-endian u32 and rejects other sizes", () => {
  assertEquals(decodeClientFlags(Uint8Array.of(0, 0, 0, 3)), 3);
  assertEquals(toHex(encodeClientFlags(3)), "00000003");
  assertThrows(() => decodeClientFlags(Uint8Array.of(0, 0, 3)), CorruptDataError);
});

Deno.test("encodeOption() and decodeOptionHeader() agree on exact bytes", () => {
  const bytes = encodeOption(NBD_OPT_LIST, Uint8Array.of(0xaa));
  assertEquals(toHex(bytes), "49484156454f5054" + "00000003" + "00000001" + "aa");
  assertEquals(decodeOptionHeader(bytes.subarray(0, 16)), { option: 3, length: 1 });
});

Deno.test("decodeOptionHeader() rejects a bad magic", () => {
  const bytes = encodeOption(NBD_OPT_LIST);
  bytes[0] = 0;
  const error = assertThrows(() => decodeOptionHeader(bytes, 18), CorruptDataError);
  assertEquals(error.offset, 18);
});

Deno.test("encodeOptionReply() writes the reply magic, option, type and length", () => {
  const bytes = encodeOptionReply(NBD_OPT_GO, NBD_REP_ACK);
  assertEquals(toHex(bytes), "0003e889045565a9" + "00000007" + "00000001" + "00000000");
  const error = encodeOptionReply(8, NBD_REP_ERR_UNSUP, Uint8Array.of(1, 2));
  assertEquals(toHex(error), "0003e889045565a9" + "00000008" + "80000001" + "00000002" + "0102");
  const decoded = decodeOptionReply(error);
  assertEquals(decoded.size, 22);
  assertEquals(decoded.replyType, NBD_REP_ERR_UNSUP);
  assertEquals(Array.from(decoded.data), [1, 2]);
});

Deno.test("decodeOptionReply() rejects truncated data", () => {
  const bytes = encodeOptionReply(NBD_OPT_GO, NBD_REP_INFO, new Uint8Array(12));
  assertThrows(() => decodeOptionReply(bytes.subarray(0, 25)), CorruptDataError);
  assertThrows(() => decodeOptionReply(bytes.subarray(0, 10)), CorruptDataError);
});

Deno.test("encodeServerEntry() writes a length-prefixed name", () => {
  assertEquals(toHex(encodeServerEntry("ab")), "00000002" + "6162");
});

Deno.test("encodeInfo*() write each info type exactly", () => {
  const flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH;
  assertEquals(toHex(encodeInfoExport(0x1_0000_0200, flags)), "0000" + "0000000100000200" + "0005");
  assertEquals(toHex(encodeInfoName("x")), "0001" + "78");
  assertEquals(toHex(encodeInfoDescription("d")), "0002" + "64");
  assertEquals(
    toHex(encodeInfoBlockSize({ minimum: 512, preferred: 4096, maximum: 1 << 25 })),
    "0003" + "00000200" + "00001000" + "02000000",
  );
});

Deno.test("decodeInfo() reads what encodeInfo*() wrote", () => {
  assertEquals(decodeInfo(encodeInfoExport(2 ** 40, 7)), {
    type: "export",
    sizeBytes: 2 ** 40,
    transmissionFlags: 7,
  });
  assertEquals(decodeInfo(encodeInfoName("walb0")), { type: "name", name: "walb0" });
  assertEquals(decodeInfo(encodeInfoBlockSize({ minimum: 1, preferred: 2, maximum: 4 })), {
    type: "block-size",
    sizes: { minimum: 1, preferred: 2, maximum: 4 },
  });
  assertEquals(decodeInfo(Uint8Array.of(0, 9)), { type: "unknown", infoType: 9 });
  assertThrows(() => decodeInfo(Uint8Array.of(0, 0, 1)), CorruptDataError);
});

Deno.test("decodeInfoRequest() reads name and info types", () => {
  const bytes = Uint8Array.of(0, 0, 0, 2, 0x61, 0x62, 0, 1, 0, NBD_INFO_BLOCK_SIZE);
  assertEquals(decodeInfoRequest(bytes), { name: "ab", infoTypes: [3] });
  assertEquals(toHex(encodeInfoRequest({ name: "ab", infoTypes: [3] })), toHex(bytes));
  assertEquals(decodeInfoRequest(encodeInfoRequest({ name: "", infoTypes: [] })), {
    name: "",
    infoTypes: [],
  });
});

Deno.test("decodeInfoRequest() rejects inconsistent lengths and long names", () => {
  assertThrows(() => decodeInfoRequest(Uint8Array.of(0, 0, 0, 9, 0, 0)), CorruptDataError);
  assertThrows(() => decodeInfoRequest(Uint8Array.of(0, 0, 0, 0, 0, 2, 0, 1)), CorruptDataError);
  assertThrows(() => decodeInfoRequest(Uint8Array.of(0, 0, 0)), CorruptDataError);
  assertThrows(() => decodeInfoRequest(Uint8Array.of(0xff, 0, 0, 0, 0, 0)), LimitExceededError);
});

Deno.test("decodeName() rejects invalid UTF-8", () => {
  assertEquals(decodeName(new TextEncoder().encode("é")), "é");
  assertThrows(() => decodeName(Uint8Array.of(0xff)), CorruptDataError);
});

Deno.test("encodeExportNameReply() pads with 124 zeros unless NO_ZEROES", () => {
  const short = encodeExportNameReply(1024, 3, { noZeroes: true });
  assertEquals(toHex(short), "0000000000000400" + "0003");
  const long = encodeExportNameReply(1024, 3, { noZeroes: false });
  assertEquals(long.length, 134);
  assertEquals(long.subarray(10).every((byte) => byte === 0), true);
});

Deno.test("encodeRequest() and decodeRequest() agree on exact bytes", () => {
  const request = {
    flags: 1,
    type: NBD_CMD_WRITE,
    handleHigh: 0x01020304,
    handleLow: 0xa0b0c0d0,
    offset: 2 ** 33 + 512,
    length: 4096,
  };
  const bytes = encodeRequest(request, Uint8Array.of(0xee));
  assertEquals(
    toHex(bytes),
    "25609513" + "0001" + "0001" + "01020304a0b0c0d0" + "0000000200000200" + "00001000" + "ee",
  );
  assertEquals(decodeRequest(bytes), request);
  const shifted = new Uint8Array(40);
  shifted.set(bytes, 5);
  assertEquals(decodeRequest(shifted, 5), request);
});

Deno.test("decodeRequest() keeps huge offsets larger than any export", () => {
  const bytes = encodeRequest({
    flags: 0,
    type: 0,
    handleHigh: 0,
    handleLow: 0,
    offset: 0,
    length: 0,
  });
  bytes.fill(0xff, 16, 24);
  const request = decodeRequest(bytes);
  assertEquals(request.offset > Number.MAX_SAFE_INTEGER, true);
});

Deno.test("decodeRequest() rejects a bad magic", () => {
  const bytes = new Uint8Array(28);
  const error = assertThrows(() => decodeRequest(bytes, 0, 100), CorruptDataError);
  assertEquals(error.offset, 100);
});

Deno.test("encodeSimpleReply() writes magic, error and handle", () => {
  const bytes = encodeSimpleReply(22, 0x01020304, 0x05060708);
  assertEquals(toHex(bytes), "67446698" + "00000016" + "0102030405060708");
  assertEquals(decodeSimpleReply(bytes), {
    error: 22,
    handleHigh: 0x01020304,
    handleLow: 0x05060708,
  });
  const framed = new Uint8Array(20);
  writeSimpleReplyHeader(framed, 4, 0, 1, 2);
  assertEquals(decodeSimpleReply(framed, 4), { error: 0, handleHigh: 1, handleLow: 2 });
  framed[4] = 0;
  assertThrows(() => decodeSimpleReply(framed, 4), CorruptDataError);
});
