import { assertEquals, assertRejects } from "./assert.ts";
import { MemoryNet } from "./net.ts";

Deno.test("MemoryNet.connect() reaches the listener and carries bytes both ways", async () => {
  const net = new MemoryNet();
  const listener = net.listen({ hostname: "a", port: 1 });
  const client = await net.connect({ hostname: "a", port: 1 });
  const server = (await listener.accept())!;
  await server.write(Uint8Array.of(1, 2));
  const p = new Uint8Array(2);
  assertEquals(await client.read(p), 2);
  assertEquals([...p], [1, 2]);
  client.close();
  server.close();
  listener.close();
});

Deno.test("MemoryNet.connect() is refused without a listener or when refused", async () => {
  const net = new MemoryNet();
  await assertRejects(() => net.connect({ hostname: "a", port: 1 }), Deno.errors.ConnectionRefused);
  const listener = net.listen({ hostname: "a", port: 1 });
  net.refuse({ hostname: "a", port: 1 });
  await assertRejects(() => net.connect({ hostname: "a", port: 1 }), Deno.errors.ConnectionRefused);
  net.refuse({ hostname: "a", port: 1 }, false);
  (await net.connect({ hostname: "a", port: 1 })).close();
  listener.close();
  await assertRejects(() => net.connect({ hostname: "a", port: 1 }), Deno.errors.ConnectionRefused);
});

Deno.test("MemoryNet listener: close() resolves a pending accept with null", async () => {
  const net = new MemoryNet();
  const listener = net.listen({ hostname: "a", port: 0 });
  const pending = listener.accept();
  listener.close();
  assertEquals(await pending, null);
});

Deno.test("MemoryNet.resetAll() closes open connections", async () => {
  const net = new MemoryNet();
  const listener = net.listen({ path: "/x" });
  const client = await net.connect({ path: "/x" });
  const server = (await listener.accept())!;
  net.resetAll({ path: "/x" });
  await assertRejects(() => client.write(Uint8Array.of(1)), Deno.errors.BadResource);
  await assertRejects(() => server.read(new Uint8Array(1)), Deno.errors.BadResource);
  listener.close();
});
