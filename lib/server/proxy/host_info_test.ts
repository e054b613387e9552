import { CorruptDataError, UsageError } from "../../errors.ts";
import { deserialize, serialize } from "../../format/serializer/mod.ts";
import { assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import {
  formatHostInfo,
  type HostInfoForBkp,
  parseHostInfoParams,
  readHostInfo,
  writeHostInfo,
} from "./host_info.ts";

const INFO: HostInfoForBkp = {
  addrPort: { addr: "localhost", port: 10200 },
  compression: { type: 2, level: 0, numCpu: 1 },
  wdiffSendDelaySec: 0,
};

Deno.test("writeHostInfo() writes AddrPort with a fixed u16 port, CompressOpt bytes, vu32 delay", () => {
  const bytes = serialize((w) => writeHostInfo(w, { ...INFO, wdiffSendDelaySec: 300 }));
  assertEquals(toHex(bytes), "09" + "6c6f63616c686f7374" + "d827" + "020001" + "812c01");
  assertEquals(deserialize(bytes, readHostInfo), { ...INFO, wdiffSendDelaySec: 300 });
});

Deno.test("readHostInfo() refuses an empty address, port 0 and a bad CompressOpt", () => {
  const bad = [
    { ...INFO, addrPort: { addr: "", port: 1 } },
    { ...INFO, addrPort: { addr: "a", port: 0 } },
    { ...INFO, compression: { type: 6 as 0, level: 0, numCpu: 1 } },
    { ...INFO, compression: { type: 2 as const, level: 10, numCpu: 1 } },
    { ...INFO, compression: { type: 2 as const, level: 0, numCpu: 0 } },
  ];
  for (const info of bad) {
    const bytes = serialize((w) => writeHostInfo(w, info));
    assertThrows(() => deserialize(bytes, readHostInfo), CorruptDataError);
  }
});

Deno.test("parseHostInfoParams() applies walbc's defaults and formatHostInfo() prints them", () => {
  assertEquals(parseHostInfoParams("localhost:10200"), INFO);
  assertEquals(formatHostInfo(parseHostInfoParams("h:1", "zstd:3:2", "5")), "h:1 zstd:3:2 5");
  assertThrows(() => parseHostInfoParams("localhost"), UsageError);
  assertThrows(() => parseHostInfoParams("h:0"), UsageError);
  assertThrows(() => parseHostInfoParams("h:1", "bad:0:1"), UsageError);
  assertThrows(() => parseHostInfoParams("h:1", "snappy:0:1", "-1"), UsageError);
});
