/**
 * One crash trial of the userland WalB device (the emulator analogue of AC-45): a writer
 * streams 4 KiB writes (overlapping, over a few blocks) through NBD with a flush every few
 * writes, the daemon is killed with SIGKILL at a random moment, then restarted (redo from
 * the ldev). Checks: every write acknowledged before a completed FLUSH is present; the image
 * equals the state after some prefix of the write stream (so the redo applied a prefix of
 * the log, in order); the lsid invariants hold and the super reads back.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { checkLsidInvariants } from "../../lib/device/walb/lsid_state.ts";
import { NbdTestClient } from "../../lib/testing/nbd_client.ts";
import type { Prng } from "../../lib/testing/random.ts";
import { type DeviceDir, MiB } from "./device_support.ts";

const BLOCK = 4096;
/** Blocks the writer touches: few, so writes overlap often. */
const BLOCK_COUNT = 64;
const DEVICE_BYTES = 4 * MiB;

/** A block stamped with `stamp` (write index + 1) in every sector. */
function stamped(stamp: number, blockIndex: number): Uint8Array {
  const data = new Uint8Array(BLOCK);
  const view = new DataView(data.buffer);
  for (let sector = 0; sector < BLOCK; sector += 512) {
    view.setUint32(sector, stamp, true);
    view.setUint32(sector + 4, blockIndex, true);
    data.fill(stamp & 0xff, sector + 8, sector + 512);
  }
  return data;
}

/** The stamp of each block of `image` (0 = never written), checking every sector agrees. */
function stampsOf(image: Uint8Array): number[] {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const stamps: number[] = [];
  for (let block = 0; block < BLOCK_COUNT; block++) {
    const stamp = view.getUint32(block * BLOCK, true);
    for (let sector = 512; sector < BLOCK; sector += 512) {
      assertEquals(view.getUint32(block * BLOCK + sector, true), stamp, `torn block ${block}`);
    }
    stamps.push(stamp);
  }
  return stamps;
}

interface StreamResult {
  /** Block index of each write issued, in order. */
  writes: number[];
  /** Writes acknowledged before the last completed flush. */
  durableCount: number;
}

/** Writes until the connection breaks; returns what was issued and what was made durable. */
async function writeStream(nbdPath: string, prng: Prng, stop: AbortSignal): Promise<StreamResult> {
  const client = await NbdTestClient.connect({ unixPath: nbdPath });
  const writes: number[] = [];
  let durableCount = 0;
  try {
    for (;;) {
      const burst = 1 + prng.int(8);
      for (let i = 0; i < burst; i++) {
        const block = prng.int(BLOCK_COUNT);
        writes.push(block);
        await client.write(block * BLOCK, stamped(writes.length, block));
      }
      const acknowledged = writes.length;
      await client.flush();
      durableCount = acknowledged;
      if (stop.aborted) break;
    }
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    client.close();
  }
  return { writes, durableCount };
}

/** Stamps of every block after the first `count` writes. */
function stateAfter(writes: number[], count: number): number[] {
  const state = new Array<number>(BLOCK_COUNT).fill(0);
  for (let i = 0; i < count; i++) state[writes[i]!] = i + 1;
  return state;
}

/** The smallest prefix length ≥ `from` whose state equals `image`, or -1. */
function matchingPrefix(writes: number[], image: number[], from: number): number {
  const state = stateAfter(writes, from);
  let mismatches = state.filter((stamp, block) => stamp !== image[block]).length;
  for (let count = from;; count++) {
    if (mismatches === 0) return count;
    if (count === writes.length) return -1;
    const block = writes[count]!;
    if (state[block] === image[block]) mismatches++;
    state[block] = count + 1;
    if (state[block] === image[block]) mismatches--;
  }
}

/** Runs one trial in `dir` with files named after `trial`; a failure carries the daemon log. */
export async function crashTrial(dir: DeviceDir, prng: Prng, trial: number): Promise<void> {
  try {
    await runTrial(dir, prng, trial);
  } catch (error) {
    const log = await Deno.readTextFile(`${dir.runDir}/crash${trial}.log`).catch(() => "");
    throw new Error(`crash trial ${trial} failed; daemon log:\n${log}`, { cause: error });
  }
}

async function runTrial(dir: DeviceDir, prng: Prng, trial: number): Promise<void> {
  const files = await dir.makeFiles(`t${trial}`, 2 * MiB, DEVICE_BYTES);
  const name = `crash${trial}`;
  const device = await dir.createDevice(name, files.ldev, files.ddev, ["-fp", "0"]);
  const stop = new AbortController();
  const stream = writeStream(device.nbdPath, prng, stop.signal);
  stream.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
  await new Promise((resolve) => setTimeout(resolve, 20 + prng.int(400)));
  stop.abort();
  await dir.killDaemon(name);
  const { writes, durableCount } = await stream;
  assert(writes.length > 0, "the writer wrote before the crash");
  const restarted = await dir.startDevice(files.ldev, files.ddev);
  assertEquals(restarted.name, name);
  const lsids = await dir.lsids(restarted.wdev);
  checkLsidInvariants(lsids);
  assertEquals(lsids.written, lsids.latest, "redo applied the whole log");
  const client = await NbdTestClient.connect({ unixPath: restarted.nbdPath });
  let image: Uint8Array;
  let rest: Uint8Array;
  try {
    image = await client.read(0, BLOCK_COUNT * BLOCK);
    rest = await client.read(BLOCK_COUNT * BLOCK, DEVICE_BYTES - BLOCK_COUNT * BLOCK);
  } finally {
    await client.disconnect();
  }
  assert(rest.every((byte) => byte === 0), "nothing was written past the blocks in use");
  const stamps = stampsOf(image);
  const prefix = matchingPrefix(writes, stamps, durableCount);
  assert(
    prefix >= durableCount,
    `trial ${trial}: the image is no prefix of the ${writes.length} writes at or after the ` +
      `${durableCount} made durable`,
  );
  await dir.walb(["wldev-info", files.ldev]);
  await dir.wdevc(["delete-wdev", restarted.wdev]);
}
