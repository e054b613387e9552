import { ProtocolError } from "../errors.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { STREAM_CONTROL } from "./constants.ts";
import { fromHex, packetReading, writtenHex } from "./packet_testing.ts";
import {
  readStreamControl,
  streamControlName,
  StreamControlReader,
  writeStreamControl,
} from "./stream_control.ts";

Deno.test("writeStreamControl() writes one byte per control", async () => {
  assertEquals(
    await writtenHex((p) => {
      writeStreamControl(p, STREAM_CONTROL.next);
      writeStreamControl(p, STREAM_CONTROL.end);
      writeStreamControl(p, STREAM_CONTROL.error);
      writeStreamControl(p, STREAM_CONTROL.dummy);
    }),
    "00010203",
  );
  assertEquals(streamControlName(STREAM_CONTROL.dummy), "Dummy");
});

Deno.test("readStreamControl() rejects bytes past Dummy", async () => {
  const { server } = await packetReading(fromHex("03 04"));
  assertEquals(await readStreamControl(server), STREAM_CONTROL.dummy);
  await assertRejects(() => readStreamControl(server), ProtocolError, "bad value 4");
});

Deno.test("StreamControlReader remembers a byte until consumed", async () => {
  const { server } = await packetReading(fromHex("03 00 01"));
  const reader = new StreamControlReader(server);
  assert(await reader.isDummy(), "dummy");
  assert(!(await reader.isNext()), "still the same byte");
  reader.consume();
  assert(await reader.isNext(), "next");
  reader.consume();
  assert(await reader.isEnd(), "end");
  assert(!(await reader.isError()), "end is not error");
});
