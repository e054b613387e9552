import { assertEquals, toHex } from "../../testing/assert.ts";
import {
  alignment,
  buildIndexSuper,
  decodeIndexRecord,
  encodeIndexRecord,
  floorPow2,
  forEachAligned,
  type IndexRecord,
  indexRecordProblem,
  parseIndexSuper,
  splitAligned,
} from "./indexed_format.ts";

const piece: IndexRecord = {
  ioAddress: 5,
  ioBlocks: 1,
  flags: 0,
  compressionType: 0,
  dataOffset: 32,
  dataSize: 1536,
  ioOffset: 0,
  origBlocks: 3,
  reserved2: 0,
  ioChecksum: 0x9c9c9d00,
  recChecksum: 0,
};

Deno.test("encodeIndexRecord() matches the §20 index records", () => {
  const bytes = new Uint8Array(96);
  assertEquals(encodeIndexRecord(piece, bytes, 0), 0x63635cd7);
  assertEquals(
    toHex(bytes.subarray(0, 48)),
    "0500000000000000" + "01000000" + "00" + "00" + "0000" + "2000000000000000" + "00060000" +
      "00000000" + "03000000" + "00000000" + "009d9c9c" + "d75c6363",
  );
  assertEquals(
    encodeIndexRecord({ ...piece, ioAddress: 6, ioBlocks: 2, ioOffset: 1 }, bytes, 48),
    0x63635cd4,
  );
  const decoded = decodeIndexRecord(bytes, 48);
  assertEquals(decoded.ioOffset, 1);
  assertEquals(indexRecordProblem(decoded, bytes.subarray(48), 1568), null);
  bytes[50]! ^= 1;
  assertEquals(
    indexRecordProblem(decodeIndexRecord(bytes, 48), bytes.subarray(48), 1568)?.includes(
      "rec_checksum",
    ),
    true,
  );
});

Deno.test("buildIndexSuper() matches the §20 super block", () => {
  const bytes = buildIndexSuper(1568, 2, 1);
  assertEquals(
    toHex(bytes),
    "2006000000000000" + "02000000" + "01000000" + "00000000" + "ddf9ffff",
  );
  const { superBlock, recordCount } = parseIndexSuper(bytes, 1688);
  assertEquals(superBlock.indexOffset, 1568);
  assertEquals(recordCount, 2);
});

function split(address: number, blocks: number, max: number): string {
  return splitAligned(address, blocks, max).map((p) => `(${p.address},${p.blocks})`).join("");
}

Deno.test("splitAligned() gives the §5.4 examples", () => {
  assertEquals(split(5, 3, 0), "(5,1)(6,2)");
  assertEquals(split(3, 13, 0), "(3,1)(4,4)(8,8)");
  assertEquals(
    split(0, 5000, 2048),
    "(0,2048)(2048,2048)(4096,512)(4608,256)(4864,128)(4992,8)",
  );
  assertEquals(
    split(1000, 3000, 2048),
    "(1000,8)(1008,16)(1024,1024)(2048,1024)(3072,512)(3584,256)(3840,128)(3968,32)",
  );
  assertEquals(
    split(0, 3000, 3000),
    "(0,2048)(2048,512)(2560,256)(2816,128)(2944,32)(2976,16)(2992,8)",
  );
});

Deno.test("alignment() and floorPow2() handle the edges", () => {
  assertEquals(alignment(0), 2 ** 31);
  assertEquals(alignment(2 ** 40), 2 ** 31);
  assertEquals(alignment(2 ** 40 + 12), 4);
  assertEquals(floorPow2(0), 0);
  assertEquals(floorPow2(1), 1);
  assertEquals(floorPow2(2 ** 32 - 1), 2 ** 31);
  assertEquals(floorPow2(4096), 4096);
});

Deno.test("forEachAligned() visits the pieces splitAligned() gives", () => {
  for (
    const [address, blocks, maxBlocks] of [[3, 13, 0], [0, 5000, 2048], [7, 1, 8], [1023, 4097, 3]]
  ) {
    const visited: { address: number; blocks: number }[] = [];
    forEachAligned(
      address!,
      blocks!,
      maxBlocks!,
      (at, size) => visited.push({ address: at, blocks: size }),
    );
    assertEquals(visited, splitAligned(address!, blocks!, maxBlocks!));
  }
});
