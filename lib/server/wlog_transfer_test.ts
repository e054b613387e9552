import { BufferedReader, MemorySource } from "../io/stream.ts";
import { metaDiff, metaSnap } from "../format/meta/mod.ts";
import { type Logpack, WlogReader } from "../format/wlog/mod.ts";
import { ChecksumMismatchError, CorruptDataError, ProtocolError } from "../errors.ts";
import { STATUS } from "../protocol/constants.ts";
import { Packet } from "../protocol/packet.ts";
import { writeStreamControl } from "../protocol/stream_control.ts";
import { assert, assertEquals, assertRejects, toHex, VECTORS_DIR } from "../testing/assert.ts";
import { ManualClock } from "../testing/clock.ts";
import { netPipe } from "../testing/net_pipe.ts";
import {
  readCompressedData,
  readWlogTransferDiff,
  readWlogTransferHeader,
  receiveWlogStream,
  runWlogTransferClient,
  sendWlogStream,
  type WlogTransferHeader,
  writeCompressedData,
  writeWlogTransferAck,
} from "./wlog_transfer.ts";

async function readWlog(name: string): Promise<{ salt: number; pbs: number; packs: Logpack[] }> {
  const bytes = await Deno.readFile(VECTORS_DIR + name);
  const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes)));
  const header = await wlog.readHeader();
  assert(header !== null, "wlog header");
  const packs: Logpack[] = [];
  for await (const pack of wlog.packs()) packs.push(pack);
  return { salt: header.salt, pbs: header.pbs, packs };
}

function packets() {
  const [a, b] = netPipe();
  const clock = new ManualClock();
  return {
    client: new Packet(a, { clock, timeoutMs: 0 }),
    server: new Packet(b, { clock, timeoutMs: 0 }),
  };
}

for (const name of ["w1.wlog", "w4-pbs4k.wlog"]) {
  Deno.test(`runWlogTransferClient() and receiveWlogStream() carry ${name} unchanged`, async () => {
    const { salt, pbs, packs } = await readWlog(name);
    const { client, server } = packets();
    const header: WlogTransferHeader = {
      volId: "vol0",
      uuid: new Uint8Array(16).fill(7),
      pbs,
      salt,
      volSizeLb: 4096n,
      maxLogSizePb: 1000n,
    };
    const diff = metaDiff(metaSnap(3n), metaSnap(4n), { isMergeable: true, timestamp: 100 });
    const serverSide = (async () => {
      const received = await readWlogTransferHeader(server);
      assertEquals(received, header);
      server.writeString(STATUS.accept);
      await server.flush();
      const out: Logpack[] = [];
      for await (const pack of receiveWlogStream(server, { pbs, salt })) out.push(pack);
      assertEquals(await readWlogTransferDiff(server), diff);
      writeWlogTransferAck(server);
      await server.closeWrite();
      return out;
    })();
    assertEquals(await runWlogTransferClient(client, header, packs, diff), STATUS.accept);
    const out = await serverSide;
    assertEquals(out.length, packs.length);
    for (const [i, pack] of packs.entries()) {
      const got = out[i]!;
      assertEquals(toHex(got.block), toHex(pack.block));
      assertEquals(got.nextLsid, pack.nextLsid);
      assertEquals(got.ios.length, pack.ios.length);
      for (const [j, io] of pack.ios.entries()) {
        assertEquals(toHex(got.ios[j]!.payload), toHex(io.payload));
        assertEquals(got.ios[j]!.record, io.record);
      }
    }
  });
}

Deno.test("runWlogTransferClient() returns a refusal without sending the stream", async () => {
  const { client, server } = packets();
  const serverSide = (async () => {
    await readWlogTransferHeader(server);
    server.writeString("wlogTransferServer:bad state:Stopped");
    await server.closeWrite();
    return await server.atEof();
  })();
  const reply = await runWlogTransferClient(
    client,
    {
      volId: "v",
      uuid: new Uint8Array(16),
      pbs: 512,
      salt: 0,
      volSizeLb: 0n,
      maxLogSizePb: 0n,
    },
    [],
    metaDiff(metaSnap(0n), metaSnap(1n)),
  );
  assertEquals(reply, "wlogTransferServer:bad state:Stopped");
  client.close();
  assert(await serverSide, "the client sent nothing after the header");
});

Deno.test("receiveWlogStream() rejects a corrupted record payload", async () => {
  const { salt, pbs, packs } = await readWlog("w1.wlog");
  const pack = packs[0]!;
  const index = pack.ios.findIndex((io) => io.record.flags === 1 && io.record.ioSize > 0);
  assert(index >= 0, "a normal record");
  const ios = pack.ios.map((io, i) => {
    if (i !== index) return io;
    const data = io.data.slice();
    data[0] = data[0]! ^ 0xff;
    return { ...io, data, payload: data.subarray(0, io.payload.length) };
  });
  const { client, server } = packets();
  await sendWlogStream(client, [{ ...pack, ios }]);
  const error = await assertRejects(async () => {
    for await (const _ of receiveWlogStream(server, { pbs, salt })) { /* drain */ }
  }, ChecksumMismatchError);
  assert(error.message.includes(`record ${index} data`), error.message);
});

Deno.test("receiveWlogStream() rejects a header with the wrong salt and an end block", async () => {
  const { salt, pbs, packs } = await readWlog("w1.wlog");
  {
    const { client, server } = packets();
    await sendWlogStream(client, packs.slice(0, 1));
    await assertRejects(async () => {
      for await (const _ of receiveWlogStream(server, { pbs, salt: salt ^ 1 })) { /* drain */ }
    }, CorruptDataError);
  }
  {
    const { buildEndBlock } = await import("../format/wlog/mod.ts");
    const { client, server } = packets();
    writeStreamControl(client, 0);
    writeCompressedData(client, buildEndBlock(pbs, salt));
    await client.flush();
    const error = await assertRejects(async () => {
      for await (const _ of receiveWlogStream(server, { pbs, salt })) { /* drain */ }
    }, CorruptDataError);
    assert(error.message.includes("end block"), error.message);
  }
});

Deno.test("receiveWlogStream() stops on an Error byte from the sender", async () => {
  const { client, server } = packets();
  const failing: AsyncIterable<Logpack> = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(new Error("device read failed")),
    }),
  };
  await assertRejects(() => sendWlogStream(client, failing), Error, "device read failed");
  await assertRejects(async () => {
    for await (const _ of receiveWlogStream(server, { pbs: 512, salt: 0 })) { /* drain */ }
  }, ProtocolError);
});

Deno.test("readCompressedData() refuses a size other than the expected one", async () => {
  const { client, server } = packets();
  writeCompressedData(client, new Uint8Array(1024));
  await client.flush();
  await assertRejects(() => readCompressedData(server, "item", 512), CorruptDataError);
});
