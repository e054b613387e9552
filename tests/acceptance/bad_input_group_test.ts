/**
 * Bad input to each port of a real L-main group (storage s0, proxy p0, archive a0, in the
 * state AC-01 leaves plus a snapshot): garbage, a wrong protocol name, a wrong version,
 * truncated streams (negotiation, parameters and the server-to-server protocols, the
 * sender half-closing) and huge length fields. Each gets an error reply or a closed
 * connection and a line in the server's log; meanwhile and afterwards the server answers
 * `status`, and the volume state is unchanged.
 */
import { snapshot } from "../../lib/controller/mod.ts";
import { SerialWriter } from "../../lib/format/serializer/mod.ts";
import { Packet } from "../../lib/protocol/mod.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { netPipe } from "../../lib/testing/net_pipe.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { CASE_TIMEOUT_MS, type Group, type ServerName, VOL, withGroup } from "./group_fixture.ts";

/** Longest wait for the server to close a connection (the servers run with `-to 5`). */
const CLOSE_WAIT_MS = 15_000;

function negotiation(protocolName: string, version = 1): SerialWriter {
  return new SerialWriter().string("fuzz").string(protocolName).u32(version);
}

/** A string length of 2^40 (a varint size field). */
const HUGE = Uint8Array.of(0x83, 0, 0, 0, 0, 0, 1, 0, 0);

/** The reply strings in `bytes` (as many as parse). */
async function strings(bytes: Uint8Array): Promise<string[]> {
  const [writer, reader] = netPipe();
  await writer.write(bytes);
  await writer.closeWrite();
  const packet = new Packet(reader, { clock: new ManualClock(), timeoutMs: 1000 });
  const out: string[] = [];
  try {
    while (!(await packet.atEof())) out.push(await packet.readString("reply"));
  } catch {
    // not a string: binary payload after the replies; the strings so far are enough
  }
  return out;
}

/**
 * Sends `bytes`, half-closes when `halfClose`, and reads until the server closes.
 *
 * @throws {Error} when the server neither answers-and-closes nor closes in time
 */
async function exchange(port: number, bytes: Uint8Array, halfClose: boolean): Promise<string[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), CLOSE_WAIT_MS);
  const started = Date.now();
  try {
    await conn.write(bytes).catch(() => 0);
    if (halfClose) await conn.closeWrite().catch(() => {});
    const chunks: number[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(...buffer.subarray(0, n));
    }
    assert(Date.now() - started < CLOSE_WAIT_MS, "the server closes the connection");
    return await strings(Uint8Array.from(chunks));
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/** Closes `conn` unless the timer closed it already. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

interface BadCase {
  what: string;
  bytes: Uint8Array;
  /** Half-close after sending (a truncated stream); otherwise the server must act alone. */
  halfClose: boolean;
  /** A fragment the error reply must hold. */
  reply?: string;
}

/**
 * A request each kind serves, cut short: the peer protocol's header after the volume id
 * (proxy: wlog-transfer, archive: wdiff-transfer; a storage serves no peer protocol, so its
 * snapshot request without the volume id).
 */
const PEER_PROTOCOL = {
  storage: negotiation("snapshot").size(1).finish(),
  proxy: negotiation("wlog-transfer").string(VOL).bytes(new Uint8Array(7)).finish(),
  archive: negotiation("wdiff-transfer").string(VOL).bytes(new Uint8Array(5)).finish(),
} as const;

function badCases(kind: keyof typeof PEER_PROTOCOL, seed: string): BadCase[] {
  const prng = seededPrng(seed);
  const cases: BadCase[] = [];
  for (let i = 0; i < 5; i++) {
    cases.push({ what: `garbage ${i}`, bytes: prng.bytes(1 + prng.int(300)), halfClose: true });
  }
  cases.push({
    what: "HTTP request",
    bytes: new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"),
    halfClose: true,
  });
  const get = negotiation("get").stringVector(["state", VOL]).finish();
  cases.push(
    {
      what: "wrong protocol name",
      bytes: negotiation("no-such-protocol").finish(),
      halfClose: false,
      reply: "bad protocol",
    },
    {
      what: "wrong version",
      bytes: negotiation("get", 2).finish(),
      halfClose: false,
      reply: "version differ",
    },
    { what: "truncated negotiation", bytes: get.subarray(0, 7), halfClose: true },
    { what: "truncated parameters", bytes: get.subarray(0, get.length - 3), halfClose: true },
    { what: `truncated ${kind} request`, bytes: PEER_PROTOCOL[kind], halfClose: true },
    { what: "huge client id length", bytes: HUGE, halfClose: true },
    {
      what: "huge parameter count",
      bytes: Uint8Array.of(...negotiation("get").finish(), ...HUGE),
      halfClose: true,
    },
    {
      what: "huge parameter length",
      bytes: Uint8Array.of(...negotiation("status").size(1).finish(), ...HUGE),
      halfClose: true,
    },
  );
  return cases;
}

async function observable(group: Group): Promise<string> {
  const ctl = group.ctl;
  const states: string[] = [];
  for (const server of group.layout.getAll()) {
    states.push(`${server.name}:${await ctl.getState(server, VOL)}`);
  }
  return JSON.stringify({
    states,
    restorable: (await ctl.getRestorableGid(group.a0, VOL, true)).map(String),
    archiveInfo: await ctl.getArchiveInfoList(group.p0, VOL),
  });
}

function lineCount(text: string): number {
  return text.split("\n").filter((line) => line !== "").length;
}

Deno.test({
  name: "bad input to each port: error or close, a log line, still serving, no state change",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withGroup(async (group) => {
      const prng = seededPrng("bad input group");
      await group.backedUp(prng);
      await group.write(0, prng, 5);
      await snapshot(group.ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
      // Let implicit snapshots settle: nothing is written from here on.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const before = await observable(group);
      const targets: [ServerName, keyof typeof PEER_PROTOCOL][] = [
        ["s0", "storage"],
        ["p0", "proxy"],
        ["a0", "archive"],
      ];
      for (const [name, kind] of targets) {
        const server = group.server(name);
        for (const bad of badCases(kind, `bad input ${name}`)) {
          const logBefore = lineCount(await group.log(name));
          // Another client is served while the bad peer is connected.
          const [replies, status] = await Promise.all([
            exchange(server.port, bad.bytes, bad.halfClose),
            group.ctl.status([group.param(name)], VOL),
          ]);
          const context = `${name} ${bad.what}: replies ${JSON.stringify(replies)}`;
          assert(status.length > 2, `${context}: status answered`);
          if (bad.reply !== undefined) {
            assert(replies.some((reply) => reply.includes(bad.reply!)), context);
          }
          // Past the negotiation (server id, "ok"), nothing may be accepted.
          for (const reply of replies.slice(2)) {
            assert(reply !== "ok" && reply !== "accept", `${context}: nothing accepted`);
          }
          let logAfter = 0;
          for (let i = 0; i < 50 && logAfter <= logBefore; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            logAfter = lineCount(await group.log(name));
          }
          assert(logAfter > logBefore, `${context}: a log line`);
          const line = (await group.log(name)).split("\n").filter((l) => l !== "")[logBefore];
          console.log(`${name} ${bad.what}: ${line}`);
        }
        assert(group.isRunning(name), `${name} still runs`);
        assertEquals(
          await group.ctl.getHostType(group.param(name)),
          server.kind,
          `${name} serves`,
        );
      }
      assertEquals(await observable(group), before, "no state change");
      // The flow still works end to end.
      await group.write(0, prng, 5);
      const md = await group.sha1(0);
      const gid = await snapshot(group.ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
      await group.verifyRestore(group.a0, gid, md);
    }),
});
