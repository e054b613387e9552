/**
 * Test-side clients of the proxy integration tests: the `archive-info` exchange as walbc
 * does it, and a fake storage sending vector wlogs through `wlog-transfer`.
 *
 * @module
 */
import { realClock } from "../../lib/clock.ts";
import type { MetaDiff } from "../../lib/format/meta/mod.ts";
import { serialize } from "../../lib/format/serializer/mod.ts";
import { type Logpack, WlogReader } from "../../lib/format/wlog/mod.ts";
import { BufferedReader, MemorySource } from "../../lib/io/stream.ts";
import { runClient } from "../../lib/protocol/connection.ts";
import { expectStatus } from "../../lib/protocol/reply.ts";
import {
  type HostInfoForBkp,
  parseHostInfoParams,
  readHostInfo,
  writeHostInfo,
} from "../../lib/server/proxy/mod.ts";
import { runWlogTransferClient } from "../../lib/server/wlog_transfer.ts";
import { assert } from "../../lib/testing/assert.ts";
import type { Endpoint } from "./archive_client.ts";

/** `archive-info CMD VOL [NAME [ADDR:PORT [CMPR [DELAY]]]]`; returns list or get values. */
export async function archiveInfo(
  endpoint: Endpoint,
  params: string[],
): Promise<string[] | HostInfoForBkp | undefined> {
  const [command, volId, name, ...hostWords] = params;
  const conn = await endpoint.net.connect(endpoint.addr, { timeoutMs: 5000 });
  return await runClient(conn, {
    clock: realClock,
    clientId: "ctl",
    protocolName: "archive-info",
    timeoutMs: 10_000,
  }, async (packet) => {
    packet.writeStringVector([command!, volId!]);
    if (command !== "list") packet.writeString(name!);
    if (command === "add" || command === "update") {
      const info = parseHostInfoParams(hostWords[0]!, hostWords[1], hostWords[2]);
      packet.writeBytes(serialize((w) => writeHostInfo(w, info)));
    }
    await packet.flush();
    await expectStatus(packet, "ok", "archive-info");
    if (command === "list") return await packet.readStringVector("names");
    if (command === "get") return await packet.read("HostInfoForBkp", readHostInfo);
    return undefined;
  });
}

/** A wlog vector as the storage would send it: salt, pbs and its logpacks. */
export interface WlogSource {
  salt: number;
  pbs: number;
  uuid: Uint8Array;
  packs: Logpack[];
}

/** Reads a whole wlog file. */
export async function readWlogFile(path: string): Promise<WlogSource> {
  const bytes = await Deno.readFile(path);
  const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes)));
  const header = await wlog.readHeader();
  assert(header !== null, `wlog header of ${path}`);
  const packs: Logpack[] = [];
  for await (const pack of wlog.packs()) packs.push(pack);
  return { salt: header.salt, pbs: header.pbs, uuid: header.uuid, packs };
}

/** Sends `source` through wlog-transfer; returns the proxy's reply (`accept` when done). */
export async function sendWlog(
  endpoint: Endpoint,
  init: { volId: string; uuid: Uint8Array; source: WlogSource; diff: MetaDiff; volSizeLb: bigint },
): Promise<string> {
  const conn = await endpoint.net.connect(endpoint.addr, { timeoutMs: 5000 });
  return await runClient(conn, {
    clock: realClock,
    clientId: "s0",
    protocolName: "wlog-transfer",
    timeoutMs: 10_000,
  }, (packet) =>
    runWlogTransferClient(
      packet,
      {
        volId: init.volId,
        uuid: init.uuid,
        pbs: init.source.pbs,
        salt: init.source.salt,
        volSizeLb: init.volSizeLb,
        maxLogSizePb: 1024n,
      },
      init.source.packs,
      init.diff,
    ));
}

/** Sends raw bytes as a client, half-closes, returns everything the server sent. */
export async function rawExchange(endpoint: Endpoint, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await endpoint.net.connect(endpoint.addr, { timeoutMs: 5000 });
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const n = await conn.write(bytes.subarray(offset)).catch(() => 0);
      if (n === 0) break;
      offset += n;
    }
    await conn.closeWrite().catch(() => {});
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } finally {
    conn.close();
  }
}
