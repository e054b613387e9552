import { assertEquals, assertThrows, toHex } from "../testing/assert.ts";
import { UsageError } from "../errors.ts";
import { packetPair, writtenHex } from "../protocol/packet_testing.ts";
import {
  formatHostInfo,
  parseHostInfo,
  readHostInfo,
  runArchiveInfoClient,
  runSnapshotClient,
  writeHostInfo,
} from "./exchanges.ts";

Deno.test("writeHostInfo() writes the §12 HostInfoForBkp example", async () => {
  const info = parseHostInfo(["192.168.0.1:10000", "zstd:3:2", "60"]);
  assertEquals(formatHostInfo(info), "192.168.0.1:10000 zstd:3:2 60");
  const hex = await writtenHex((packet) => writeHostInfo(packet, info));
  assertEquals(
    hex,
    toHex(Uint8Array.from([
      0x0b,
      0x31,
      0x39,
      0x32,
      0x2e,
      0x31,
      0x36,
      0x38,
      0x2e,
      0x30,
      0x2e,
      0x31,
      0x10,
      0x27,
      0x05,
      0x03,
      0x02,
      0x3c,
    ])),
  );
  assertEquals(formatHostInfo(parseHostInfo(["h:1"])), "h:1 snappy:0:1 0");
  assertThrows(() => parseHostInfo(["h"]), UsageError);
  assertThrows(() => parseHostInfo(["h:1", "snappy:10:1"]), UsageError);
  assertThrows(() => parseHostInfo(["h:1", "snappy:0:1", "-1"]), UsageError);
});

Deno.test("runArchiveInfoClient() sends [cmd, vol], the name and host info; reads the reply", async () => {
  const pair = packetPair();
  const info = parseHostInfo(["a0.example:10200", "snappy:0:1", "5"]);
  const client = runArchiveInfoClient(pair.client, {
    cmd: "get",
    volId: "vol0",
    archiveName: "a0",
  });
  assertEquals(await pair.server.readStringVector("params"), ["get", "vol0"]);
  assertEquals(await pair.server.readString("name"), "a0");
  pair.server.writeString("ok");
  writeHostInfo(pair.server, info);
  await pair.server.flush();
  assertEquals(await client, info);

  const pair2 = packetPair();
  const add = runArchiveInfoClient(pair2.client, {
    cmd: "add",
    volId: "vol0",
    archiveName: "a0",
    hostInfo: info,
  });
  assertEquals(await pair2.server.readStringVector("params"), ["add", "vol0"]);
  assertEquals(await pair2.server.readString("name"), "a0");
  assertEquals(await readHostInfo(pair2.server), info);
  pair2.server.writeString("ok");
  await pair2.server.flush();
  assertEquals(await add, undefined);

  const pair3 = packetPair();
  const list = runArchiveInfoClient(pair3.client, { cmd: "list", volId: "vol0" });
  assertEquals(await pair3.server.readStringVector("params"), ["list", "vol0"]);
  pair3.server.writeString("ok").writeStringVector(["a0", "a1"]);
  await pair3.server.flush();
  assertEquals(await list, ["a0", "a1"]);
});

Deno.test("runSnapshotClient() reads ok and the gid", async () => {
  const pair = packetPair();
  const gid = runSnapshotClient(pair.client, "vol0");
  assertEquals(await pair.server.readStringVector("params"), ["vol0"]);
  pair.server.writeString("ok").writeU64(12n);
  await pair.server.flush();
  assertEquals(await gid, 12n);
});
