import { CorruptDataError, LimitExceededError, ProtocolError } from "../errors.ts";
import { LIMITS } from "../limits.ts";
import { assert, assertEquals, assertRejects, toHex } from "../testing/assert.ts";
import { ConnectionClosedError, ProtocolTimeoutError } from "./errors.ts";
import {
  fromHex,
  hasSettled,
  packetPair,
  packetReading,
  TEST_TIMEOUT_MS,
  writtenHex,
} from "./packet_testing.ts";

Deno.test("Packet write methods produce the serializer's exact bytes", async () => {
  assertEquals(await writtenHex((p) => void p.writeBool(true).writeBool(false)), "0100");
  assertEquals(await writtenHex((p) => void p.writeU8(3)), "03");
  assertEquals(await writtenHex((p) => void p.writeU16(0x0311)), "1103");
  assertEquals(await writtenHex((p) => void p.writeU32(1)), "01");
  assertEquals(await writtenHex((p) => void p.writeU32(0x626c6177)), "8277616c62");
  assertEquals(await writtenHex((p) => void p.writeU32(0xffffffff)), "ff");
  assertEquals(await writtenHex((p) => void p.writeU64(0xffffffffn)), "82ffffffff");
  assertEquals(await writtenHex((p) => void p.writeU64(2n ** 64n - 1n)), "ff");
  assertEquals(await writtenHex((p) => void p.writeSize(300)), "812c01");
  assertEquals(await writtenHex((p) => void p.writeString("ok")), "026f6b");
  assertEquals(await writtenHex((p) => void p.writeString("")), "00");
  assertEquals(
    await writtenHex((p) => void p.writeStringVector(["state", "vol0"])),
    "020573746174650476 6f6c30".replaceAll(" ", ""),
  );
  assertEquals(await writtenHex((p) => void p.writeBytes(Uint8Array.of(0xab, 0xcd))), "abcd");
});

Deno.test("Packet buffers writes until flush", async () => {
  const { client, clientEnd } = packetPair();
  client.writeString("vm").writeString("get").writeU32(1);
  assertEquals(client.pendingSize, 8);
  assertEquals(clientEnd.writtenBytes().length, 0);
  await client.flush();
  assertEquals(toHex(clientEnd.writtenBytes()), "02766d0367657401");
  assertEquals(client.pendingSize, 0);
});

Deno.test("Packet.writeBytesHeld() sends the same bytes as writeBytes() in order", async () => {
  const big = new Uint8Array(40 * 1024).map((_, i) => i % 251);
  const small = Uint8Array.of(1, 2, 3);
  const { client, clientEnd } = packetPair();
  client.writeU32(7).writeBytesHeld(big).writeBytesHeld(small).writeU32(9).writeBytesHeld(big);
  assertEquals(client.pendingSize, 1 + big.length + 3 + 1 + big.length);
  await client.flush();
  assertEquals(client.pendingSize, 0);
  const expected = new Uint8Array(2 * big.length + 5);
  expected.set([7], 0);
  expected.set(big, 1);
  expected.set(small, 1 + big.length);
  expected.set([9], 4 + big.length);
  expected.set(big, 5 + big.length);
  assertEquals(toHex(clientEnd.writtenBytes()), toHex(expected));
});

Deno.test("Packet.read() flushes pending output before waiting", async () => {
  const { client, server, clientEnd } = packetPair();
  client.writeString("ping");
  const reading = client.readString("pong");
  assertEquals(toHex(clientEnd.writtenBytes()), "0470696e67");
  assertEquals(await server.readString("ping"), "ping");
  server.writeString("pong");
  await server.flush();
  assertEquals(await reading, "pong");
});

Deno.test("Packet read methods decode values split across single-byte segments", async () => {
  const { client, server, clientEnd } = packetPair();
  const bytes = fromHex(
    "01 03 1103 82776 16c62 ff 812c01 026f6b 0205737461746504766f6c30 abcd 84ff".replaceAll(
      " ",
      "",
    ),
  );
  const feeding = (async () => {
    for (const byte of bytes) {
      await clientEnd.write(Uint8Array.of(byte));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await clientEnd.closeWrite();
  })();
  assertEquals(await server.readBool("b"), true);
  assertEquals(await server.readU8("u8"), 3);
  assertEquals(await server.readU16("u16"), 0x0311);
  assertEquals(await server.readU32("ack"), 0x626c6177);
  assertEquals(await server.readU64("gid"), 2n ** 64n - 1n);
  assertEquals(await server.readSize("size", 1000), 300);
  assertEquals(await server.readString("s"), "ok");
  assertEquals(await server.readStringVector("v"), ["state", "vol0"]);
  assertEquals(toHex(await server.readBytes(2, "raw", 2)), "abcd");
  assertEquals(await server.readI32("i32"), -1);
  assert(await server.atEof(), "all consumed");
  assertEquals(server.position, bytes.length);
  await feeding;
  void client;
});

Deno.test("Packet.readString() refuses a length over the limit before reading it", async () => {
  // 0x83 + 8 bytes: a 2^40-byte string announced; the peer stays silent and open.
  const { server } = await packetReading(fromHex("83 0000000000010000"), { close: false });
  const reading = server.readString("reply");
  assert(await hasSettled(reading), "no wait for the announced bytes");
  await assertRejects(() => reading, LimitExceededError, "reply length");
  const { server: second } = await packetReading(fromHex("81 0104"), { close: false });
  await assertRejects(() => second.readString("client id", 1024), LimitExceededError);
});

Deno.test("Packet.readStringVector() bounds the count and the total size", async () => {
  const { server } = await packetReading(fromHex("83 0000000001000000"), { close: false });
  await assertRejects(() => server.readStringVector("lines"), LimitExceededError, "count");
  const { server: sized } = await packetReading(fromHex("03 03616263 03646566 03676869"));
  await assertRejects(
    () => sized.readStringVector("lines", { sizeMax: 7 }),
    LimitExceededError,
  );
  const { server: counted } = await packetReading(fromHex("03 00 00 00"));
  await assertRejects(
    () => counted.readStringVector("lines", { countMax: 2 }),
    LimitExceededError,
  );
});

Deno.test("Packet.readBytes() checks the size against its limit first", async () => {
  const { server } = await packetReading(new Uint8Array(0), { close: false });
  const reading = server.readBytes(LIMITS.protocolStringSizeMax + 1, "pack", 4096);
  assert(await hasSettled(reading), "no wait");
  await assertRejects(() => reading, LimitExceededError);
});

Deno.test("Packet reads report EOF before a value and inside a value", async () => {
  const { server } = await packetReading(new Uint8Array(0));
  await assertRejects(() => server.readString("status"), ConnectionClosedError);
  const { server: cut } = await packetReading(fromHex("05 6f6b"));
  await assertRejects(() => cut.readString("status"), CorruptDataError, "status");
  const { server: cutInt } = await packetReading(fromHex("83 0102"));
  await assertRejects(() => cutInt.readU64("gid"), CorruptDataError);
});

Deno.test("Packet.readU32() rejects the 8-byte headers of 64-bit values", async () => {
  const { server } = await packetReading(fromHex("83 0100000000000000"));
  await assertRejects(() => server.readU32("version"), CorruptDataError, "bad header");
});

Deno.test("Packet.expectEof() requires the peer to close", async () => {
  const { server } = await packetReading(new Uint8Array(0));
  await server.expectEof("reply");
  const { server: chatty } = await packetReading(Uint8Array.of(0));
  await assertRejects(() => chatty.expectEof("reply"), ProtocolError, "instead of closing");
});

Deno.test("Packet reads time out on the clock and can be retried", async () => {
  const { clock, server, clientEnd } = packetPair();
  const reading = server.readU8("control");
  reading.catch(() => {}); // rejected during advance(); asserted below
  await clock.advance(TEST_TIMEOUT_MS - 1);
  assert(!(await hasSettled(reading)), "still waiting before the timeout");
  await clock.advance(1);
  await assertRejects(() => reading, ProtocolTimeoutError, "10000 ms");
  // The read stays pending underneath: a retry gets the byte that arrives later.
  const retry = server.readU8("control");
  await clientEnd.write(Uint8Array.of(3));
  assertEquals(await retry, 3);
  assertEquals(clock.pendingCount, 0);
});

Deno.test("Packet writes time out when the peer does not read, then stay broken", async () => {
  const { clock, client } = packetPair({ capacityBytes: 4 });
  client.writeBytes(new Uint8Array(16));
  const flushing = client.flush();
  flushing.catch(() => {}); // rejected during advance(); asserted below
  await clock.advance(TEST_TIMEOUT_MS);
  await assertRejects(() => flushing, ProtocolTimeoutError, "write");
  client.writeU8(1);
  await assertRejects(() => client.flush(), ProtocolTimeoutError);
});

Deno.test("Packet without a timeout waits for the peer", async () => {
  const { clock, server, clientEnd } = packetPair({ timeoutMs: 0 });
  const reading = server.readU8("byte");
  await clock.advance(10 * TEST_TIMEOUT_MS);
  assert(!(await hasSettled(reading)), "no timeout");
  await clientEnd.write(Uint8Array.of(7));
  assertEquals(await reading, 7);
});

Deno.test("Packet.close() makes later reads fail with ProtocolError", async () => {
  const { server } = packetPair();
  server.close();
  server.close();
  await assertRejects(() => server.readU8("byte"), ProtocolError);
});

Deno.test("Packet.readBytes() reads a large value arriving in pieces, after buffered bytes", async () => {
  const { server, clientEnd } = packetPair();
  const value = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
  // A small value and the large one's start arrive together; the rest in odd pieces.
  await clientEnd.write(Uint8Array.of(9, ...value.subarray(0, 1000)));
  assertEquals(await server.readU8("first"), 9);
  const reading = server.readBytes(value.length, "payload", value.length);
  for (let at = 1000; at < value.length; at += 33_333) {
    await clientEnd.write(value.slice(at, Math.min(at + 33_333, value.length)));
  }
  await clientEnd.write(Uint8Array.of(5));
  assertEquals(toHex(await reading), toHex(value));
  assertEquals(server.position, 1 + value.length);
  assertEquals(await server.readU8("after"), 5);
});

Deno.test("Packet.readBytes() of a large value reports EOF before and inside it", async () => {
  const closed = await packetReading(new Uint8Array(0));
  await assertRejects(
    () => closed.server.readBytes(65536, "payload", 65536),
    ConnectionClosedError,
  );
  const short = await packetReading(new Uint8Array(40_000));
  await assertRejects(
    () => short.server.readBytes(65536, "payload", 65536),
    CorruptDataError,
    "25536 more bytes needed",
  );
});

Deno.test("Packet.readBytes() of a large value can be retried after a timeout", async () => {
  const { clock, server, clientEnd } = packetPair();
  const value = new Uint8Array(100_000).map((_, i) => i % 253);
  await clientEnd.write(value.slice(0, 70_000));
  const reading = server.readBytes(value.length, "payload", value.length);
  reading.catch(() => {}); // rejected during advance(); asserted below
  await hasSettled(reading);
  await clock.advance(TEST_TIMEOUT_MS);
  await assertRejects(() => reading, ProtocolTimeoutError);
  // The bytes received so far and those of the read left pending are not lost.
  const retry = server.readBytes(value.length, "payload", value.length);
  await clientEnd.write(value.slice(70_000));
  assertEquals(toHex(await retry), toHex(value));
  assertEquals(clock.pendingCount, 0);
});

Deno.test("Packet.readBytesInto() fills one reused buffer with successive values", async () => {
  const { server, clientEnd } = packetPair();
  const first = new Uint8Array(70_000).map((_, i) => i % 199);
  const second = new Uint8Array(50_000).map((_, i) => (i * 3) % 197);
  await clientEnd.write(Uint8Array.of(...first.subarray(0, 500)));
  const buffer = new Uint8Array(100_000);
  const reading = server.readBytesInto(buffer.subarray(0, first.length), "first");
  await clientEnd.write(first.slice(500));
  await clientEnd.write(second);
  await clientEnd.write(Uint8Array.of(1, 2, 3));
  await reading;
  assertEquals(toHex(buffer.subarray(0, first.length)), toHex(first));
  await server.readBytesInto(buffer.subarray(0, second.length), "second");
  assertEquals(toHex(buffer.subarray(0, second.length)), toHex(second));
  await server.readBytesInto(buffer.subarray(0, 3), "small");
  assertEquals(toHex(buffer.subarray(0, 3)), "010203");
  assertEquals(server.position, first.length + second.length + 3);
});
