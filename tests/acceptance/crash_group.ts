/**
 * Crash trials on a real L-main group: kill -9 of one server at a random point during a
 * full backup or during the wlog flow (a writer running, snapshots taken), then a restart.
 * Checks: the flow resumes (a full backup completes, after a rollback when needed; new
 * snapshots become restorable), no gid that was restorable is lost, and every snapshot
 * whose gid was returned restores to the device image recorded when it was taken.
 *
 * @module
 */
import {
  fullBackup,
  initStorage,
  kickStorageAll,
  reset,
  snapshotNbk,
  stop,
  WaitTimeoutError,
} from "../../lib/controller/mod.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { type Prng, seededPrng } from "../../lib/testing/random.ts";
import {
  CASE_TIMEOUT_MS,
  type Group,
  RandomWriter,
  type ServerName,
  VOL,
  withGroup,
} from "./group_fixture.ts";

/** Every server of L-main can be the victim. */
export const VICTIMS: readonly ServerName[] = ["s0", "a0", "p0", "p1", "s1", "a1"];

/** Where the kill lands. */
export type CrashPhase = "full backup" | "wlog flow";

const STORAGE_STEADY = ["Clear", "SyncReady", "Stopped", "Target", "Standby"];
const ARCHIVE_STEADY = ["Clear", "SyncReady", "Archived", "Stopped"];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the state of `name` is steady (a killed peer's transfer has rolled back). */
async function steadyState(group: Group, name: ServerName): Promise<string> {
  const steady = name.startsWith("s") ? STORAGE_STEADY : ARCHIVE_STEADY;
  return await group.ctl.waitForState(group.param(name), VOL, steady, CASE_TIMEOUT_MS);
}

/**
 * Brings the full backup of s0 to a0 to its end after a crash: done when s0 is Target and
 * a0 Archived, otherwise roll back (stop/reset what got half way) and run it again.
 *
 * @returns the first clean gid
 */
async function completeFullBackup(group: Group, report: (line: string) => void) {
  const ctl = group.ctl;
  for (let attempt = 1;; attempt++) {
    const s0 = await steadyState(group, "s0");
    const a0 = await steadyState(group, "a0");
    report(`after the crash: s0 ${s0}, a0 ${a0}`);
    if (s0 === "Target" && a0 === "Archived") {
      await kickStorageAll(ctl);
      const deadline = Date.now() + CASE_TIMEOUT_MS;
      for (;;) {
        const gids = await ctl.getRestorableGid(group.a0, VOL);
        if (gids.length > 0) return gids[0]!;
        if (Date.now() > deadline) throw new Error("no restorable gid after the full backup");
        await sleep(100);
      }
    }
    if (a0 === "Archived") await stop(ctl, group.a0, VOL);
    if (a0 === "Archived" || a0 === "Stopped") await reset(ctl, group.a0, VOL);
    if (s0 === "Target") await stop(ctl, group.s0, VOL);
    try {
      const gid = await fullBackup(ctl, group.s0, VOL, { timeoutMs: CASE_TIMEOUT_MS });
      return gid!;
    } catch (error) {
      if (attempt >= 3 || error instanceof WaitTimeoutError) throw error;
      report(`full backup attempt ${attempt} failed: ${(error as Error).message}`);
    }
  }
}

/** kill -9 `victim` at a random point of a (rate-limited) full backup, restart, check. */
async function fullBackupTrial(group: Group, prng: Prng, victim: ServerName, log: Logger) {
  const ctl = group.ctl;
  await initStorage(ctl, group.s0, VOL, group.device(0).path);
  await initStorage(ctl, group.s1, VOL, group.device(1).path);
  await group.write(0, prng, 30);
  const sha1 = await group.sha1(0);
  // 12 MiB at 8 MiB/s: the scan lasts about 1.5 s (a restart resets the limit).
  await ctl.storageClient(group.s0).setFullScanBps("8M");
  await fullBackup(ctl, group.s0, VOL, { block: false });
  // Mostly during the scan, sometimes around or after its end (the last ack, Target).
  const killAfterMs = prng.int(2500);
  await sleep(killAfterMs);
  log(`kill -9 ${victim} ${killAfterMs} ms into the full backup`);
  await group.kill(victim);
  await sleep(prng.int(500));
  await group.start(victim);
  const gid = await completeFullBackup(group, log);
  await group.verifyRestore(group.a0, gid, sha1);
  // The flow resumes: a write, a snapshot, its image.
  await group.write(0, prng, 5);
  const md = await group.sha1(0);
  const gid2 = await ctl.call(group.s0, ["snapshot"], () => snapshotNbk(ctl, group.s0, VOL));
  await ctl.waitForRestorable(group.a0, VOL, gid2, CASE_TIMEOUT_MS);
  await group.verifyRestore(group.a0, gid2, md);
}

/** kill -9 `victim` while a writer runs and snapshots are taken, restart, check. */
async function wlogFlowTrial(group: Group, prng: Prng, victim: ServerName, log: Logger) {
  const ctl = group.ctl;
  const first = await group.backedUp(prng);
  const taken: { gid: bigint; sha1: string }[] = [first];
  let restorableBefore: bigint[] = [];
  const writer = await RandomWriter.start(group, 0, prng, 2);
  const tickMs = 250;
  const killTick = prng.range(2, 10);
  const restartTick = killTick + prng.range(1, 4);
  const lastTick = restartTick + 6;
  try {
    for (let tick = 1; tick <= lastTick; tick++) {
      await sleep(tickMs);
      if (tick === killTick) {
        // With `all`: the newest gid is listed without `all` only until a newer diff
        // starting at it (an implicit snapshot) arrives.
        restorableBefore = await ctl.getRestorableGid(group.a0, VOL, true);
        const jitterMs = prng.int(tickMs);
        await sleep(jitterMs);
        log(`kill -9 ${victim} at ${tick * tickMs + jitterMs} ms of the wlog flow`);
        await group.kill(victim);
      } else if (tick === restartTick) {
        await group.start(victim);
      } else if (group.isRunning("s0") && tick % 2 === 0) {
        taken.push(
          await writer.between(async () => ({
            sha1: await group.sha1(0),
            gid: await snapshotNbk(ctl, group.s0, VOL),
          })),
        );
      }
    }
  } finally {
    await writer.stop();
  }
  const md = await group.sha1(0);
  taken.push({ sha1: md, gid: await snapshotNbk(ctl, group.s0, VOL) });
  for (const { gid } of taken) await ctl.waitForRestorable(group.a0, VOL, gid, CASE_TIMEOUT_MS);
  const restorable = await ctl.getRestorableGid(group.a0, VOL, true);
  for (const gid of restorableBefore) {
    assert(restorable.includes(gid), `gid ${gid} was restorable before the kill`);
  }
  log(`${taken.length} snapshots, ${writer.writeCount} writes; verifying`);
  for (const { gid, sha1 } of taken) await group.verifyRestore(group.a0, gid, sha1);
  assertEquals(await ctl.getState(group.s0, VOL), "Target");
}

type Logger = (line: string) => void;

/**
 * Runs `trialCount` trials on fresh groups: phases alternate, each phase takes the victims
 * in turn.
 */
export async function crashTrials(trialCount: number, name: string): Promise<void> {
  const prng = seededPrng(name);
  // Short runs start among the servers of the flow (s0, a0, p0); WALB_CRASH_VICTIM forces one.
  const firstVictim = prng.int(trialCount >= 2 * VICTIMS.length ? VICTIMS.length : 3);
  const forced = Deno.env.get("WALB_CRASH_VICTIM") as ServerName | undefined;
  for (let trial = 0; trial < trialCount; trial++) {
    const phase: CrashPhase = trial % 2 === 0 ? "full backup" : "wlog flow";
    const victim = forced ?? VICTIMS[(firstVictim + Math.floor(trial / 2)) % VICTIMS.length]!;
    const started = Date.now();
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    try {
      await withGroup(async (group) => {
        if (phase === "full backup") await fullBackupTrial(group, prng, victim, log);
        else await wlogFlowTrial(group, prng, victim, log);
      });
    } catch (error) {
      console.log(lines.join("\n"));
      throw new Error(`trial ${trial} (${phase}, ${victim}) failed`, { cause: error });
    }
    console.log(`trial ${trial}: ${phase}, ${victim}: ok in ${Date.now() - started} ms`);
    for (const line of lines) console.log(`  ${line}`);
  }
}
