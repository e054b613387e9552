import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { UsageError } from "../errors.ts";
import {
  getServerArgs,
  ServerConnectionParam,
  ServerLayout,
  ServerStartupParam,
  toServerKind,
} from "./layout.ts";

const s0 = new ServerConnectionParam("s0", "localhost", 10000, "storage");
const p0 = new ServerConnectionParam("p0", "localhost", 10100, 1);
const a0 = new ServerStartupParam(
  new ServerConnectionParam("a0", "localhost", 10200, "archive"),
  "/opt/walb/",
  "/data/a0",
  { vg: "vg0" },
);

Deno.test("ServerConnectionParam() checks kinds and compares all fields", () => {
  assertEquals(p0.kind, "proxy");
  assertEquals(toServerKind(2), "archive");
  assertThrows(() => toServerKind(3), UsageError);
  assertThrows(() => new ServerConnectionParam("x", "h", 0, "storage"), UsageError);
  assert(s0.equals(new ServerConnectionParam("s0", "localhost", 10000, "storage")));
  assert(!s0.equals(new ServerConnectionParam("s0", "localhost", 10001, "storage")));
  assertEquals(s0.toString(), "s0, localhost, 10000, storage");
});

Deno.test("ServerLayout() checks list kinds; replace keeps empty lists", () => {
  const layout = new ServerLayout([s0], [p0], [a0]);
  assertEquals(layout.getPrimaryArchive().name, "a0");
  assertEquals(layout.toString(), "s0,p0,a0");
  assertThrows(() => new ServerLayout([p0], [], []), UsageError);
  assertEquals(layout.replace({ proxyL: [] }).proxyL.length, 1);
  assertThrows(() => layout.verify(2, 1, 1), UsageError);
  assertThrows(() => new ServerLayout([s0], [], []).getPrimaryArchive(), UsageError);
});

Deno.test("getServerArgs() builds the archive command line without -bg", () => {
  const args = getServerArgs(a0, { isDebug: true });
  assertEquals(args, [
    "/opt/walb/walb",
    "archive",
    "-vg",
    "vg0",
    "-p",
    "10200",
    "-b",
    "/data/a0",
    "-l",
    "/data/a0/a0.log",
    "-id",
    "a0",
    "-fg",
    "2",
    "-debug",
  ]);
  assertThrows(() => new ServerStartupParam(a0.connParam, "/", "/d"), UsageError);
});
