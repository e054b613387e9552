import { assert, assertEquals, assertRejects } from "./assert.ts";
import { netPipe } from "./net_pipe.ts";

Deno.test("netPipe() carries bytes both ways and records them", async () => {
  const [client, server] = netPipe();
  await client.write(Uint8Array.of(1, 2, 3));
  await server.write(Uint8Array.of(9));
  const p = new Uint8Array(2);
  assertEquals(await server.read(p), 2);
  assertEquals([...p], [1, 2]);
  assertEquals(await server.read(p), 1);
  assertEquals(await client.read(p), 1);
  assertEquals([...client.writtenBytes()], [1, 2, 3]);
  assertEquals([...server.writtenBytes()], [9]);
});

Deno.test("netPipe() closeWrite() gives the peer EOF after the buffered bytes", async () => {
  const [client, server] = netPipe();
  const p = new Uint8Array(8);
  const pending = server.read(p);
  await client.write(Uint8Array.of(7));
  await client.closeWrite();
  assertEquals(await pending, 1);
  assertEquals(await server.read(p), null);
  await assertRejects(() => client.write(Uint8Array.of(1)), Deno.errors.BrokenPipe);
  // The half-closed end still reads.
  await server.write(Uint8Array.of(5));
  assertEquals(await client.read(p), 1);
});

Deno.test("netPipe() close() fails pending reads and the peer's writes", async () => {
  const [client, server] = netPipe();
  const pending = client.read(new Uint8Array(1));
  client.close();
  await assertRejects(() => pending, Deno.errors.BadResource);
  await assertRejects(() => server.write(Uint8Array.of(1)), Deno.errors.ConnectionReset);
  assertEquals(await server.read(new Uint8Array(1)), null);
  assert(client.isClosed);
});

Deno.test("netPipe() capacityBytes makes write wait for the reader", async () => {
  const [client, server] = netPipe({ capacityBytes: 2 });
  assertEquals(await client.write(Uint8Array.of(1, 2, 3)), 2);
  let done = false;
  const blocked = client.write(Uint8Array.of(3)).then((n) => {
    done = true;
    return n;
  });
  await new Promise((r) => setTimeout(r, 0));
  assert(!done);
  const p = new Uint8Array(1);
  await server.read(p);
  assertEquals(await blocked, 1);
});
