import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { ProtocolError } from "../../errors.ts";
import { decodeRequest, decodeResponse, encodeLine, takeLines } from "./protocol.ts";

Deno.test("decodeRequest() round-trips every argument and rejects bad ones", () => {
  const request = {
    op: "wait-permanent" as const,
    afterLsid: "18446744073709551615",
    timeoutMs: 1000,
  };
  const line = new TextDecoder().decode(encodeLine(request)).trimEnd();
  assertEquals(decodeRequest(line), request);
  for (
    const text of [
      "nope",
      "[]",
      '{"op":"format"}',
      '{"op":"set-oldest-lsid","lsid":"-1"}',
      '{"op":"set-oldest-lsid","lsid":"18446744073709551616"}',
      '{"op":"set-oldest-lsid","lsid":12}',
      '{"op":"freeze","timeoutSec":-1}',
      '{"op":"stop","force":"yes"}',
    ]
  ) {
    assertThrows(() => decodeRequest(text), ProtocolError);
  }
});

Deno.test("decodeResponse() reads values and refusals", () => {
  assertEquals(decodeResponse('{"ok":true,"value":"12"}'), { ok: true, value: "12" });
  assertEquals(
    decodeResponse('{"ok":false,"code":"EFAULT","operation":"set oldest lsid","detail":"x"}'),
    { ok: false, code: "EFAULT", operation: "set oldest lsid", detail: "x" },
  );
  assertThrows(
    () => decodeResponse('{"ok":false,"code":"EWHAT","operation":"a","detail":"b"}'),
    ProtocolError,
  );
});

Deno.test("takeLines() splits complete lines and keeps the rest", () => {
  assertEquals(takeLines('{"a":1}\n{"b"'), { lines: ['{"a":1}'], rest: '{"b"' });
});
