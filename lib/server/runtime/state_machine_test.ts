import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { RequestError } from "../../protocol/errors.ts";
import { StateMachine, verifyState } from "./state_machine.ts";
import { ActionCounters, StopFlag } from "./volume_flags.ts";
import { ForegroundLimiter } from "./foreground.ts";
import { ManualClock } from "../../testing/clock.ts";
import { checkVolumeId, parseSizeWithUnit, parseU64Param, unitString } from "./format.ts";

const EDGES = [["Clear", "InitVol"], ["InitVol", "SyncReady"], ["SyncReady", "ClearVol"], [
  "ClearVol",
  "Clear",
]] as const;

Deno.test("StateMachine.begin() moves to the temporary state and commit() to the target", () => {
  const sm = new StateMachine(EDGES, "Clear");
  const tx = sm.begin("Clear", "InitVol", "init");
  assertEquals(sm.state, "InitVol");
  assert(sm.inTransaction);
  tx.commit("SyncReady");
  assertEquals(sm.state, "SyncReady");
  assert(!sm.inTransaction);
});

Deno.test("StateMachine: rollback() and dispose return to from", () => {
  const sm = new StateMachine(EDGES, "Clear");
  {
    using _tx = sm.begin("Clear", "InitVol", "init");
  }
  assertEquals(sm.state, "Clear");
  const tx = sm.begin("Clear", "InitVol", "init");
  tx.rollback();
  tx.rollback();
  assertEquals(sm.state, "Clear");
});

Deno.test("StateMachine.begin() refuses the wrong state and a second transaction", () => {
  const sm = new StateMachine(EDGES, "SyncReady");
  const error = assertThrows(() => sm.begin("Clear", "InitVol", "c2sInitVolServer"), RequestError);
  assertEquals(
    error.message,
    "c2sInitVolServer:StateMachineTransaction:bad state:SyncReady:Clear:InitVol",
  );
  const tx = sm.begin("SyncReady", "ClearVol", "clear");
  assertThrows(() => sm.begin("ClearVol", "Clear", "x"), RequestError);
  tx.rollback();
  assertThrows(() => verifyState(sm, ["Clear"], "get"), RequestError);
  verifyState(sm, ["SyncReady"], "get");
});

Deno.test("StopFlag.begin() is compare-and-swap from NotStopping", () => {
  const flag = new StopFlag();
  flag.begin("Stopping", "stop", "v");
  assertEquals(flag.state, "Stopping");
  assertThrows(() => flag.begin("ForceStopping", "stop", "v"), RequestError);
  assertThrows(() => flag.verifyNotStopping("x", "v"), RequestError);
  flag.end();
  assert(!flag.isStopping);
});

Deno.test("ActionCounters counts running actions and remembers start times", () => {
  const clock = new ManualClock(5000);
  const actions = new ActionCounters(["Apply", "Merge"], clock);
  const end = actions.start("Apply");
  assertEquals(actions.count("Apply"), 1);
  assertEquals(actions.total(), 1);
  assertEquals(actions.lastStartSec("Apply"), 5);
  assertThrows(() => actions.verifyNotRunning(["Apply"], "merge", "v"), RequestError);
  actions.verifyNotRunning(["Merge"], "merge", "v");
  end();
  assertEquals(actions.total(), 0);
});

Deno.test("ForegroundLimiter.acquire() refuses past the maximum", () => {
  const limiter = new ForegroundLimiter(1);
  const release = limiter.acquire("a");
  const error = assertThrows(() => limiter.acquire("restore"), RequestError);
  assertEquals(error.message, "restore:exceeds max foreground tasks:1");
  release();
  limiter.acquire("a")();
});

Deno.test("format helpers: unitString, sizes, u64 params, volume ids", () => {
  assertEquals(unitString(1536n), "1536");
  assertEquals(unitString(2n * 1024n * 1024n), "2m");
  assertEquals(parseSizeWithUnit("64K", "x"), 65536n);
  assertEquals(parseSizeWithUnit("1g", "x"), 1n << 30n);
  assertThrows(() => parseSizeWithUnit("1x", "x"), RequestError);
  assertThrows(() => parseSizeWithUnit("16e", "x"), RequestError);
  assertEquals(parseU64Param("18446744073709551615", "gid", "x"), (1n << 64n) - 1n);
  assertThrows(() => parseU64Param("18446744073709551616", "gid", "x"), RequestError);
  assertThrows(() => parseU64Param("-1", "gid", "x"), RequestError);
  checkVolumeId("vol-0", "x");
  assertThrows(() => checkVolumeId("vol_0", "x"), RequestError);
  assertThrows(() => checkVolumeId("a".repeat(65), "x"), RequestError);
});
