import { assertEquals, assertThrows } from "./testing/assert.ts";
import { realClock } from "./clock.ts";
import { DenoNet, formatNetAddr, parseHostPort } from "./net.ts";
import { UsageError } from "./errors.ts";

Deno.test("parseHostPort() splits at the first colon and checks the port", () => {
  assertEquals(parseHostPort("host:10"), { hostname: "host", port: 10 });
  assertThrows(() => parseHostPort("a:b:1"), UsageError);
  assertThrows(() => parseHostPort("host"), UsageError);
  assertThrows(() => parseHostPort(":1"), UsageError);
  assertThrows(() => parseHostPort("h:0"), UsageError);
  assertThrows(() => parseHostPort("h:65536"), UsageError);
  assertEquals(formatNetAddr({ hostname: "h", port: 1 }), "h:1");
});

Deno.test("DenoNet connects over loopback TCP", async () => {
  const net = new DenoNet({ clock: realClock });
  const listener = net.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await net.connect(listener.addr, { timeoutMs: 2000 });
  const server = (await accepted)!;
  await client.write(Uint8Array.of(9));
  const p = new Uint8Array(1);
  assertEquals(await server.read(p), 1);
  assertEquals(p[0], 9);
  client.close();
  server.close();
  listener.close();
  assertEquals(await listener.accept(), null);
});
