import { CorruptDataError } from "../errors.ts";
import { MemorySink, MemorySource } from "../io/stream.ts";
import { assertEquals, assertRejects, toHex } from "../testing/assert.ts";
import { type ExportConfig, negotiate, transmissionFlagsOf } from "./handshake.ts";
import { NBD_LIMITS } from "./limits.ts";
import {
  decodeInfo,
  decodeOptionReply,
  encodeClientFlags,
  encodeInfoRequest,
  encodeOption,
  GREETING_SIZE,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_READ_ONLY,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_DESCRIPTION,
  NBD_INFO_NAME,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_TOO_BIG,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_SERVER,
  type OptionReply,
} from "./protocol.ts";
import { NbdReader } from "./reader.ts";
import { MemoryBackend } from "./testing_backends.ts";

const FIXED = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES;

function config(backend = new MemoryBackend(1 << 20)): ExportConfig {
  return { name: "walb0", description: "test disk", backend };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function handshake(clientBytes: Uint8Array, exportConfig = config()) {
  const sink = new MemorySink();
  const reader = new NbdReader(new MemorySource(clientBytes), 4096);
  const result = await negotiate(reader, sink, exportConfig);
  const bytes = sink.bytes();
  const replies: OptionReply[] = [];
  let offset = GREETING_SIZE;
  return {
    result,
    greeting: bytes.subarray(0, GREETING_SIZE),
    rest: bytes.subarray(GREETING_SIZE),
    replies() {
      while (offset < bytes.length) {
        const reply = decodeOptionReply(bytes.subarray(offset));
        offset += reply.size;
        replies.push(reply);
      }
      return replies;
    },
  };
}

Deno.test("negotiate() greets with fixed newstyle and no zeroes", async () => {
  const { result, greeting } = await handshake(new Uint8Array(0));
  assertEquals(toHex(greeting), "4e42444d41474943" + "49484156454f5054" + "0003");
  assertEquals(result.kind, "closed");
});

Deno.test("negotiate() answers GO with export, name, description and block size", async () => {
  const go = encodeOption(
    NBD_OPT_GO,
    encodeInfoRequest({ name: "walb0", infoTypes: [NBD_INFO_NAME, NBD_INFO_DESCRIPTION] }),
  );
  const run = await handshake(concat(encodeClientFlags(FIXED), go));
  assertEquals(run.result, { kind: "transmission", exportName: "walb0" });
  const replies = run.replies();
  assertEquals(replies.map((reply) => reply.replyType), [
    NBD_REP_INFO,
    NBD_REP_INFO,
    NBD_REP_INFO,
    NBD_REP_INFO,
    NBD_REP_ACK,
  ]);
  assertEquals(replies.map((reply) => reply.option), [7, 7, 7, 7, 7]);
  const infos = replies.slice(0, 4).map((reply) => decodeInfo(reply.data));
  assertEquals(infos[0], {
    type: "export",
    sizeBytes: 1 << 20,
    transmissionFlags: NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
      NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_CAN_MULTI_CONN,
  });
  assertEquals(infos[1], { type: "name", name: "walb0" });
  assertEquals(infos[2], { type: "description", description: "test disk" });
  assertEquals(infos[3], {
    type: "block-size",
    sizes: { minimum: 512, preferred: 4096, maximum: NBD_LIMITS.blockSizeMaxDefault },
  });
});

Deno.test("negotiate() serves the default export name too", async () => {
  const go = encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "", infoTypes: [] }));
  const run = await handshake(concat(encodeClientFlags(FIXED), go));
  assertEquals(run.result.kind, "transmission");
});

Deno.test("negotiate() keeps haggling after INFO, LIST and unsupported options", async () => {
  const info = encodeOption(
    NBD_OPT_INFO,
    encodeInfoRequest({ name: "walb0", infoTypes: [NBD_INFO_BLOCK_SIZE] }),
  );
  const unknown = encodeOption(
    NBD_OPT_INFO,
    encodeInfoRequest({ name: "other", infoTypes: [] }),
  );
  const client = concat(
    encodeClientFlags(FIXED),
    info,
    encodeOption(NBD_OPT_LIST),
    encodeOption(NBD_OPT_LIST, Uint8Array.of(1)),
    encodeOption(NBD_OPT_STRUCTURED_REPLY),
    unknown,
    encodeOption(NBD_OPT_INFO, Uint8Array.of(0, 0, 0, 1)),
    encodeOption(99),
    encodeOption(NBD_OPT_ABORT),
  );
  const run = await handshake(client);
  assertEquals(run.result, { kind: "closed", reason: "client aborted" });
  const types = run.replies().map((reply) => reply.replyType);
  assertEquals(types, [
    NBD_REP_INFO,
    NBD_REP_INFO,
    NBD_REP_ACK,
    NBD_REP_SERVER,
    NBD_REP_ACK,
    NBD_REP_ERR_INVALID,
    NBD_REP_ERR_UNSUP,
    NBD_REP_ERR_UNKNOWN,
    NBD_REP_ERR_INVALID,
    NBD_REP_ERR_UNSUP,
    NBD_REP_ACK,
  ]);
  assertEquals(
    toHex(run.replies()[3]!.data),
    "00000005" + toHex(new TextEncoder().encode("walb0")),
  );
});

Deno.test("negotiate() answers EXPORT_NAME with size and flags, padded unless NO_ZEROES", async () => {
  const name = new TextEncoder().encode("walb0");
  const short = await handshake(
    concat(encodeClientFlags(FIXED), encodeOption(NBD_OPT_EXPORT_NAME, name)),
  );
  assertEquals(short.result.kind, "transmission");
  assertEquals(toHex(short.rest), "0000000000100000" + "016d");
  const padded = await handshake(
    concat(
      encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE),
      encodeOption(NBD_OPT_EXPORT_NAME, name),
    ),
  );
  assertEquals(padded.rest.length, 134);
});

Deno.test("negotiate() closes on an unknown EXPORT_NAME, bad magic or unknown client flags", async () => {
  const unknown = await handshake(
    concat(encodeClientFlags(FIXED), encodeOption(NBD_OPT_EXPORT_NAME, Uint8Array.of(0x78))),
  );
  assertEquals(unknown.result.kind, "closed");
  assertEquals(unknown.rest.length, 0);
  const badMagic = encodeOption(NBD_OPT_LIST);
  badMagic[3] = 0;
  assertEquals((await handshake(concat(encodeClientFlags(FIXED), badMagic))).result.kind, "closed");
  assertEquals((await handshake(encodeClientFlags(0x80))).result.kind, "closed");
});

Deno.test("negotiate() refuses a huge option length with TOO_BIG without reading it", async () => {
  const header = encodeOption(NBD_OPT_GO);
  new DataView(header.buffer).setUint32(12, 0xffffffff);
  const run = await handshake(concat(encodeClientFlags(FIXED), header));
  assertEquals(run.result.kind, "closed");
  assertEquals(run.replies().map((reply) => reply.replyType), [NBD_REP_ERR_TOO_BIG]);
});

Deno.test("negotiate() closes a client without fixed newstyle on other options", async () => {
  const run = await handshake(concat(encodeClientFlags(0), encodeOption(NBD_OPT_LIST)));
  assertEquals(run.result.kind, "closed");
  assertEquals(run.rest.length, 0);
});

Deno.test("negotiate() stops after too many options", async () => {
  const options = Array.from(
    { length: NBD_LIMITS.optionCountMax + 1 },
    () => encodeOption(NBD_OPT_STRUCTURED_REPLY),
  );
  const run = await handshake(concat(encodeClientFlags(FIXED), ...options));
  assertEquals(run.result.kind, "closed");
});

Deno.test("negotiate() rejects option data cut short", async () => {
  const go = encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "walb0", infoTypes: [] }));
  await assertRejects(
    () => handshake(concat(encodeClientFlags(FIXED), go.subarray(0, go.length - 2))),
    CorruptDataError,
  );
});

Deno.test("transmissionFlagsOf() marks read-only and drops write features", () => {
  const backend = new MemoryBackend(4096, { readOnly: true });
  assertEquals(
    transmissionFlagsOf(backend),
    NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
      NBD_FLAG_CAN_MULTI_CONN,
  );
});
