/**
 * Mutation tests over the recorded protocol streams (vectors/protocol-trace-*.pcap): flipped
 * bytes, truncation, huge length fields and garbage, fed to our server (client side mutated)
 * and to our client (server side mutated), with the peer either closing or staying silent.
 * Every run must end — by a value or by ProtocolError / CorruptDataError /
 * LimitExceededError (RemoteError for a client whose server sent another text) — on the
 * manual clock, never by a bug (AssertionError, TypeError, RangeError) and never hang.
 * Seeded: the seed is printed, SEED=n replays it; WALB_FUZZ_MS lengthens the run.
 */
import { CorruptDataError, LimitExceededError, ProtocolError } from "../../lib/errors.ts";
import {
  type GetHandler,
  type Packet,
  type ProtocolHandler,
  RemoteError,
  runClient,
  runGetClient,
  runStatusClient,
  serveConnection,
  serveGet,
  serveStatus,
} from "../../lib/protocol/mod.ts";
import { assert, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { netPipe } from "../../lib/testing/net_pipe.ts";
import { readPcapTcpStreams, type TcpStream } from "../../lib/testing/pcap.ts";

const TIMEOUT_MS = 10_000;
/** Clock advances of one timeout each before a run counts as hung. */
const ADVANCES_MAX = 50;

const STREAMS: TcpStream[] = [
  ...readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-get.pcap`)),
  ...readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-more.pcap`)),
].filter((s) => s.server.port === 10100); // the proxy streams (wdiff-transfer is not served)

/** Seeded PRNG (mulberry32); SEED=n replays a run. */
function seededRandom(name: string): () => number {
  const seed = Number(Deno.env.get("SEED") ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`${name}: seed=${seed}`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const out = [...bytes];
  switch (int(5)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + int(3); i < n && out.length > 0; i++) {
        const at = int(out.length);
        out[at] = out[at]! ^ (1 + int(255));
      }
      break;
    case 1: // truncate
      out.length = int(out.length);
      break;
    case 2: { // a huge length/varint field in place of one byte
      const at = int(out.length + 1);
      const header = [0x83, 0x82, 0x87, 0x81][int(4)]!;
      const payload = Array.from({ length: 8 }, () => int(256));
      out.splice(at, 1, header, ...payload.slice(0, 1 << (header & 3)));
      break;
    }
    case 3: { // garbage inserted
      const at = int(out.length + 1);
      out.splice(at, 0, ...Array.from({ length: 1 + int(16) }, () => int(256)));
      break;
    }
    default: // all garbage
      return Uint8Array.from({ length: int(64) }, () => int(256));
  }
  return Uint8Array.from(out);
}

function isAllowed(error: unknown, allowRemote: boolean): boolean {
  return error instanceof ProtocolError || error instanceof CorruptDataError ||
    error instanceof LimitExceededError || (allowRemote && error instanceof RemoteError);
}

/** Runs `body` to completion on `clock`, advancing time when it waits; fails if it hangs. */
async function runToEnd<T>(clock: ManualClock, body: Promise<T>): Promise<T> {
  let settled = false;
  body.then(() => settled = true, () => settled = true);
  for (let i = 0; i < ADVANCES_MAX && !settled; i++) await clock.advance(TIMEOUT_MS);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert(settled, "the run ended within the clock budget");
  return await body;
}

const TARGETS = new Map<string, GetHandler>([
  ["state", () => Promise.resolve("Stopped")],
  ["host-type", () => Promise.resolve("proxy")],
  ["vol", () => Promise.resolve(["vol0"])],
]);
const HANDLERS = new Map<string, ProtocolHandler>([
  ["get", async ({ packet }) => void await serveGet(packet, TARGETS)],
  ["status", ({ packet }) => serveStatus(packet, () => Promise.resolve(["hostType proxy"]))],
]);

function iterations(): number {
  const ms = Number(Deno.env.get("WALB_FUZZ_MS") ?? 0);
  return ms > 0 ? Math.max(200, Math.floor(ms / 5)) : 200;
}

Deno.test("serveConnection() survives mutated client streams of the traces", async () => {
  const random = seededRandom("protocol server mutation");
  for (let i = 0; i < iterations(); i++) {
    const original = STREAMS[i % STREAMS.length]!;
    const input = mutate(original.clientToServer, random);
    const keepOpen = random() < 0.5;
    const clock = new ManualClock();
    const [clientEnd, serverEnd] = netPipe();
    await clientEnd.write(input);
    if (!keepOpen) await clientEnd.closeWrite();
    const outcome = await runToEnd(
      clock,
      serveConnection(serverEnd, {
        serverId: "p0",
        clock,
        timeoutMs: TIMEOUT_MS,
        handlers: HANDLERS,
      }),
    );
    assert(
      outcome.error === undefined || isAllowed(outcome.error, false),
      `iteration ${i}: ${String(outcome.error)}`,
    );
    assert(serverEnd.isClosed, `iteration ${i}: connection closed`);
  }
});

function clientExchange(s: TcpStream): (packet: Packet) => Promise<unknown> {
  const params = s.clientToServer;
  const text = new TextDecoder().decode(params);
  if (text.includes("status")) return (p) => runStatusClient(p, "vol0");
  if (text.includes("all-actions")) return (p) => runGetClient(p, ["all-actions"]);
  if (text.includes("host-type")) return (p) => runGetClient(p, ["host-type"]);
  if (text.includes("state")) return (p) => runGetClient(p, ["state", "vol0"]);
  return (p) => runGetClient(p, ["vol"]);
}

Deno.test("runClient() survives mutated server streams of the traces", async () => {
  const random = seededRandom("protocol client mutation");
  for (let i = 0; i < iterations(); i++) {
    const original = STREAMS[i % STREAMS.length]!;
    const input = mutate(original.serverToClient, random);
    const keepOpen = random() < 0.5;
    const clock = new ManualClock();
    const [clientEnd, serverEnd] = netPipe();
    await serverEnd.write(input);
    if (!keepOpen) await serverEnd.closeWrite();
    const protocolName = new TextDecoder().decode(original.clientToServer).includes("status")
      ? "status"
      : new TextDecoder().decode(original.clientToServer).includes("init-vol")
      ? "init-vol"
      : "get";
    const run = runClient(
      clientEnd,
      { clock, timeoutMs: TIMEOUT_MS, clientId: "vm", protocolName },
      clientExchange(original),
    );
    try {
      await runToEnd(clock, run);
    } catch (error) {
      assert(isAllowed(error, true), `iteration ${i}: ${String(error)}`);
    }
    assert(clientEnd.isClosed, `iteration ${i}: connection closed`);
  }
});
