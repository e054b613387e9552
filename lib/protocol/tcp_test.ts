import { realClock } from "../clock.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import {
  type Conn,
  type GetHandler,
  RemoteError,
  runClient,
  runGetClient,
  serveConnection,
  serveGet,
} from "./mod.ts";

const TARGETS = new Map<string, GetHandler>([["host-type", () => Promise.resolve("proxy")]]);

Deno.test("Deno.Conn carries a get exchange over loopback TCP (Fin close included)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const outcomes = [];
    for (let i = 0; i < 2; i++) {
      const conn: Conn = await listener.accept();
      outcomes.push(
        await serveConnection(conn, {
          serverId: "p0",
          clock: realClock,
          timeoutMs: 5000,
          handlers: new Map([["get", async ({ packet }) => void await serveGet(packet, TARGETS)]]),
        }),
      );
    }
    return outcomes;
  })();
  try {
    const options = { clock: realClock, timeoutMs: 5000, clientId: "vm" };
    const value = await runClient(
      await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      { ...options, protocolName: "get" },
      (packet) => runGetClient(packet, ["host-type"]),
    );
    assertEquals(value, { type: "string", value: "proxy" });
    await assertRejects(
      async () =>
        await runClient(
          await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
          { ...options, protocolName: "init-vol" },
          () => Promise.resolve(),
        ),
      RemoteError,
      "bad protocol:init-vol:vm",
    );
    const outcomes = await serving;
    assertEquals(outcomes[0]?.error, undefined);
    assert(outcomes[0]?.accepted === true, "get accepted");
    assertEquals(outcomes[1]?.accepted, false);
  } finally {
    listener.close();
  }
});
