import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { CorruptDataError } from "../../errors.ts";
import { formatLsids, type LsidSet, parseLsids, walbSysfsDir } from "./sysfs.ts";

const SET: LsidSet = {
  latest: 1024n,
  completed: 1020n,
  flush: 1000n,
  permanent: 1000n,
  written: 900n,
  prevWritten: 800n,
  oldest: 18446744073709551615n,
};

const TEXT = "latest       1024\n" +
  "completed    1020\n" +
  "flush        1000\n" +
  "permanent    1000\n" +
  "written      900\n" +
  "prev_written 800\n" +
  "oldest       18446744073709551615\n";

Deno.test("formatLsids() prints the driver's exact lsids text", () => {
  assertEquals(formatLsids(SET), TEXT);
});

Deno.test("parseLsids() reads the driver's text and round-trips formatLsids()", () => {
  assertEquals(parseLsids(TEXT), SET);
  assertEquals(parseLsids(formatLsids(SET)), SET);
});

Deno.test("parseLsids() accepts CRLF, tabs, extra blanks, submitted and unknown names", () => {
  const unknown: string[] = [];
  const text = "\r\n  submitted\t\t1030  \r\n" + TEXT.replaceAll("\n", "\r\n") + "future 5\n";
  const parsed = parseLsids(text, { onUnknown: (name) => unknown.push(name) });
  assertEquals(parsed, { ...SET, submitted: 1030n });
  assertEquals(unknown, ["future"]);
});

Deno.test("parseLsids() rejects malformed lines, bad values and missing names", () => {
  assertThrows(() => parseLsids(TEXT + "oops\n"), CorruptDataError, 'is not "name value"');
  assertThrows(() => parseLsids(TEXT + "a b c\n"), CorruptDataError, "is not");
  assertThrows(
    () => parseLsids(TEXT.replace("900", "-1")),
    CorruptDataError,
    "value of written is not a u64",
  );
  assertThrows(
    () => parseLsids(TEXT.replace("1024", "18446744073709551616")),
    CorruptDataError,
    "not a u64",
  );
  assertThrows(
    () => parseLsids(TEXT.replace("prev_written 800\n", "")),
    CorruptDataError,
    "missing prev_written",
  );
  assertThrows(() => parseLsids(""), CorruptDataError, "missing latest, completed");
});

Deno.test("walbSysfsDir() replaces / with !", () => {
  assertEquals(walbSysfsDir("vol0"), "/sys/block/walb!vol0/walb/");
});

Deno.test("parseLsids() on mutated text returns a set or throws CorruptDataError", () => {
  const seed = Number(Deno.env.get("SEED") ?? Date.now() % 1_000_000);
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const alphabet = "0123456789 \t\r\nabz_-";
  for (let round = 0; round < 2000; round++) {
    const chars = [...TEXT];
    for (let flips = 1 + (next() % 4); flips > 0; flips--) {
      chars[next() % chars.length] = alphabet[next() % alphabet.length]!;
    }
    try {
      parseLsids(chars.join(""));
    } catch (error) {
      if (!(error instanceof CorruptDataError)) {
        throw new Error(`seed=${seed} round ${round}: ${String(error)}`, { cause: error });
      }
    }
  }
});
