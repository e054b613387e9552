/**
 * Test-side client helpers for the archive integration tests: one connection per request
 * through lib/protocol (walbc-like commands, typed `get`, a wdiff-send-like sender).
 *
 * @module
 */
import { realClock } from "../../lib/clock.ts";
import type { Net, NetAddr } from "../../lib/net.ts";
import { runClient } from "../../lib/protocol/connection.ts";
import { receiveValueReply, sendStringVector, type ValueType } from "../../lib/protocol/reply.ts";
import type { Packet } from "../../lib/protocol/packet.ts";
import { openWdiff } from "../../lib/format/wdiff/mod.ts";
import type { MetaDiff } from "../../lib/format/meta/mod.ts";
import { runWdiffTransferClient, type WirePack } from "../../lib/server/wdiff_transfer.ts";

/** One server endpoint. */
export interface Endpoint {
  net: Net;
  addr: NetAddr;
}

/** Runs one exchange on a fresh connection. */
export async function request<T>(
  endpoint: Endpoint,
  protocolName: string,
  exchange: (packet: Packet) => Promise<T>,
): Promise<T> {
  const conn = await endpoint.net.connect(endpoint.addr, { timeoutMs: 5000 });
  return await runClient(conn, {
    clock: realClock,
    clientId: "ctl",
    protocolName,
    timeoutMs: 10_000,
  }, exchange);
}

/** A P-SENDVEC command expecting `confirm` (`ok` or `accept`). */
export async function command(
  endpoint: Endpoint,
  name: string,
  params: string[],
  confirm = "ok",
): Promise<void> {
  await request(endpoint, name, (p) => sendStringVector(p, params, { confirm, context: name }));
}

/** `get` with an explicit value type (also for targets outside walbc's table). */
export async function get<T extends ValueType>(
  endpoint: Endpoint,
  params: string[],
  type: T,
) {
  return await request(endpoint, "get", async (p) => {
    await sendStringVector(p, params);
    return await receiveValueReply(p, type, "get");
  });
}

/** Polls `check` every 20 ms until it returns true (10 s at most). */
export async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sends a sorted wdiff file like `wdiff-send`/the proxy: returns the archive's reply. */
export async function sendWdiff(
  endpoint: Endpoint,
  init: {
    volId: string;
    path: string;
    diff: MetaDiff;
    uuid?: Uint8Array;
    hostType?: string;
    sizeLb: bigint;
  },
): Promise<string> {
  const opened = await openWdiff(init.path);
  try {
    const reader = opened.reader;
    if (reader.format !== "sorted") throw new Error("sendWdiff needs a sorted wdiff");
    const packs = async function* (): AsyncGenerator<WirePack> {
      if (reader.format !== "sorted") return;
      for await (const pack of reader.packs()) yield { block: pack.block, payload: pack.payload };
    };
    return await request(endpoint, "wdiff-transfer", (p) =>
      runWdiffTransferClient(p, {
        volId: init.volId,
        hostType: init.hostType ?? "proxy",
        uuid: init.uuid ?? reader.header.uuid,
        maxIoBlocks: 0,
        sizeLb: init.sizeLb,
        diff: init.diff,
      }, packs()));
  } finally {
    opened.close();
  }
}

/** sha1 of a file, hex (lib/testing/files.ts). */
export { sha1File } from "../../lib/testing/files.ts";
