import { buildCompressedPack } from "../format/wdiff/sorted_writer.ts";
import { STREAM_CONTROL } from "../protocol/constants.ts";
import { packetPair } from "../protocol/packet_testing.ts";
import { writeStreamControl } from "../protocol/stream_control.ts";
import { assertEquals, toHex } from "../testing/assert.ts";
import { seededPrng } from "../testing/random.ts";
import { receiveWdiffPacks } from "./wdiff_transfer.ts";

Deno.test("receiveWdiffPacks() gives each pack's bytes when reusing one payload buffer", async () => {
  const prng = seededPrng("receiveWdiffPacks");
  const packs = [0, 1, 2].map((p) =>
    buildCompressedPack([0, 1, 2].map((i) => ({
      ioAddress: p * 1000 + i * 100,
      ioBlocks: 64,
      kind: "normal" as const,
      data: i === 1 ? prng.bytes(64 * 512) : new Uint8Array(64 * 512).fill(p + i),
    })))
  );
  for (const reusePayloadBuffer of [false, true]) {
    const { client, server } = packetPair();
    for (const pack of packs) {
      writeStreamControl(client, STREAM_CONTROL.next);
      client.writeSize(pack.block.length + pack.payload.length);
      client.writeBytes(pack.block).writeBytes(pack.payload);
    }
    writeStreamControl(client, STREAM_CONTROL.end);
    await client.flush();
    const seen: string[] = [];
    for await (const pack of receiveWdiffPacks(server, { reusePayloadBuffer })) {
      seen.push(toHex(pack.block) + toHex(pack.payload)); // used before the next pack
    }
    assertEquals(seen, packs.map((pack) => toHex(pack.block) + toHex(pack.payload)));
  }
});
