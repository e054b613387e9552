/**
 * The storage worker (protocol-and-servers.md §2.2.5): one run per popped volume task —
 * overflow handling, wlog removal in standby, and in target (or during a backup) the
 * transfer procedure: delete garbage, take an implicit snapshot when due, choose the range
 * (wdiff-and-archive.md §10), stream the logpacks to the first proxy that accepts
 * (§1.10.1, §2.2.6), commit the done record after the Ack, delete the sent wlogs
 * (set-oldest-lsid, device-and-wlog.md §5.3).
 *
 * @module
 */
import {
  chooseTransferRange,
  formatMetaDiff,
  type MetaDiff,
  metaDiff,
  metaLsidGid,
  metaSnap,
  type TransferRange,
  writeMetaDiff,
} from "../../format/meta/mod.ts";
import type { LsidSet, WalbDevice } from "../../device/wdev.ts";
import type { LdevPack } from "../../device/ldev_reader.ts";
import { formatNetAddr } from "../../net.ts";
import { SERVER_PROTOCOLS, STATUS } from "../../protocol/constants.ts";
import { readAck } from "../../protocol/reply.ts";
import { releaseBytes } from "../release_bytes.ts";
import { sendWlogStream, writeWlogTransferHeader } from "../wlog_transfer.ts";
import { ACTIONS, BUSY_RETRY_DELAY_MS, SS, WORKER_STATES } from "./constants.ts";
import { dumpBadLogpack } from "./logpack_dump.ts";
import { stopMonitoring } from "./monitor.ts";
import { availableProxies, requestPeer } from "./proxy_monitor.ts";
import { saveDone, saveQueue, takeVolumeSnapshot } from "./records.ts";
import type { StorageContext, StorageVolume, WlogTask } from "./volume.ts";

const FN = "storageWorker";
const MIB = 1024 * 1024;

/** What a transfer round asks for next. */
export type WorkerResult =
  | { kind: "done" }
  | { kind: "now" }
  | { kind: "later"; delayMs: number };

/**
 * delay(R, W) of §2.2.5: 100 ms if 2R ≥ W, 1000 ms if 10R ≤ W, else
 * 1000 − 900·(10R − W)/(4W) (integer arithmetic).
 *
 * @param remainingMib MiB of wlog not yet sent
 * @param maxWlogSendMib `-wl`
 * @example
 * ```ts
 * import { retryDelayOf } from "./worker.ts";
 * if (retryDelayOf(64, 128) !== 100 || retryDelayOf(1, 128) !== 1000) throw new Error("wrong");
 * ```
 */
export function retryDelayOf(remainingMib: number, maxWlogSendMib: number): number {
  const r = remainingMib;
  const w = maxWlogSendMib;
  if (2 * r >= w) return 100;
  if (10 * r <= w) return 1000;
  return 1000 - Math.floor(900 * (10 * r - w) / (4 * w));
}

/** The next retry delay after a failure: `-delay` first, then doubled up to `-maxdelay`. */
export function nextRetryDelayMs(previousMs: number, minMs: number, maxMs: number): number {
  if (previousMs <= 0) return minMs;
  return Math.min(previousMs * 2, maxMs);
}

/** Runs one popped task (errors are logged by the dispatcher; retries are queued here). */
export async function runWlogTask(context: StorageContext, task: WlogTask): Promise<void> {
  const volume = context.volumes.get(task.volId);
  if (volume === undefined) return;
  const volId = volume.volId;
  if (volume.stop.isStopping) throw new Error(`${FN}:stopping:${volId}`);
  const state = volume.state.state;
  if (state === SS.startStandby || state === SS.startTarget) {
    context.pushTask(volId, BUSY_RETRY_DELAY_MS);
    return;
  }
  if (!WORKER_STATES.includes(state)) throw new Error(`${FN}:bad state:${volId}:${state}`);
  if (
    (volume.actions.count(ACTIONS.wlogSend) ?? 0) > 0 ||
    (volume.actions.count(ACTIONS.wlogRemove) ?? 0) > 0
  ) {
    context.pushTask(volId, BUSY_RETRY_DELAY_MS, true);
    return;
  }
  const device = await context.deviceOf(volume);
  if (await device.isOverflow()) {
    context.runtime.log("ERROR", `${FN}:overflow:${volId}`);
    if (state === SS.target) await stopTargetAfterOverflow(context, volume);
    return;
  }
  if (state === SS.standby) {
    const end = volume.actions.start(ACTIONS.wlogRemove);
    try {
      const lsids = await device.lsids();
      await eraseWlogs(device, lsids.prevWritten, lsids);
    } finally {
      end();
    }
    return;
  }
  const end = volume.actions.start(ACTIONS.wlogSend);
  let result: WorkerResult;
  try {
    result = await transferRound(context, volume, device);
  } catch (error) {
    const delayMs = nextRetryDelayMs(
      task.retryDelayMs,
      context.config.minRetryDelayMs,
      context.config.maxRetryDelayMs,
    );
    if (!volume.stop.isStopping) context.pushTask(volId, delayMs, true, delayMs);
    context.runtime.log(
      "ERROR",
      `${FN}:${volId}:${error instanceof Error ? error.message : error}:retry in ${delayMs} ms`,
    );
    return;
  } finally {
    end();
  }
  if (result.kind === "now") context.pushTask(volId, 0);
  else if (result.kind === "later") context.pushTask(volId, result.delayMs);
}

/** Target → StopTarget → Stopped after an overflow (§2.2.5 step 2). */
async function stopTargetAfterOverflow(context: StorageContext, volume: StorageVolume) {
  const tx = volume.state.begin(SS.target, SS.stopTarget, FN);
  try {
    stopMonitoring(volume);
    context.dropTask(volume.volId);
    await context.store.writeState(volume.volId, SS.stopped);
    tx.commit(SS.stopped);
  } finally {
    tx.rollback();
  }
}

/** eraseWal (device-and-wlog.md §5.3): moves the oldest lsid to `lsid` when allowed. */
async function eraseWlogs(device: WalbDevice, lsid: bigint, lsids: LsidSet): Promise<void> {
  if (lsid <= lsids.oldest || lsid > lsids.prevWritten) return;
  await device.setOldestLsid(lsid);
}

/** Deletes the wlogs before min(done, prevWritten); returns the fresh lsid set. */
async function deleteGarbage(device: WalbDevice, doneLsid: bigint): Promise<LsidSet> {
  const lsids = await device.lsids();
  const target = doneLsid < lsids.prevWritten ? doneLsid : lsids.prevWritten;
  await eraseWlogs(device, target, lsids);
  return target > lsids.oldest ? await device.lsids() : lsids;
}

function delayFor(context: StorageContext, pbs: number, remainingPb: bigint): number {
  const remainingMib = Number(remainingPb * BigInt(pbs) / BigInt(MIB));
  return retryDelayOf(remainingMib, Math.max(1, Math.floor(context.config.maxWlogSendBytes / MIB)));
}

/** One run of the transfer procedure (§2.2.5). */
async function transferRound(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
): Promise<WorkerResult> {
  const sup = await device.readSuper();
  let lsids = await deleteGarbage(device, volume.done.lsid);
  const done = volume.done;
  if (done.lsid >= lsids.permanent && volume.queue.length === 0) {
    if (done.lsid < lsids.latest) {
      return { kind: "later", delayMs: delayFor(context, sup.pbs, lsids.latest - done.lsid) };
    }
    return lsids.oldest < done.lsid ? { kind: "later", delayMs: 1000 } : { kind: "done" };
  }
  await prepareQueue(context, volume, device, lsids);
  const range = chooseTransferRange(volume.done, volume.queue, {
    maxWlogSendPb: context.maxWlogSendPb(sup.pbs),
    permanentLsid: lsids.permanent,
  });
  if (range === null) return { kind: "done" };
  if (range.lsidE > lsids.permanent) {
    return { kind: "later", delayMs: delayFor(context, sup.pbs, range.lsidE - done.lsid) };
  }
  const sent = await sendToProxy(context, volume, device, range, sup);
  const isComplete = sent.endLsid === range.recE.lsid;
  const newDone = metaLsidGid(sent.endLsid, sent.diff.snapE.gidB, {
    isMergeable: isComplete ? range.recE.isMergeable : true,
    timestamp: isComplete ? range.recE.timestamp : range.recB.timestamp,
  });
  await volume.locked(async () => {
    await saveDone(context, volume, newDone);
    const kept = volume.queue.filter((record) => record.gid > newDone.gid);
    if (kept.length !== volume.queue.length) await saveQueue(context, volume, kept);
  });
  context.runtime.log("DEBUG", `${FN}:sent:${volume.volId}:${formatMetaDiff(sent.diff)}`);
  lsids = await deleteGarbage(device, newDone.lsid);
  if (volume.queue.length > 0) return { kind: "now" };
  if (lsids.latest > newDone.lsid) {
    return { kind: "later", delayMs: delayFor(context, sup.pbs, lsids.latest - newDone.lsid) };
  }
  return { kind: "done" };
}

/** Drops obsolete records; takes an implicit snapshot when the queue is empty or stale. */
async function prepareQueue(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  lsids: LsidSet,
): Promise<void> {
  const done = volume.done;
  if (volume.queue.some((record) => record.gid <= done.gid)) {
    await volume.locked(() =>
      saveQueue(context, volume, volume.queue.filter((record) => record.gid > done.gid))
    );
  }
  const newest = volume.queue[0];
  const isStale = newest !== undefined && newest.lsid < lsids.latest &&
    context.nowSec() - newest.timestamp >= context.config.implicitSnapshotIntervalSec;
  if (newest === undefined || isStale) await takeVolumeSnapshot(context, volume, device, true);
}

/**
 * The logpacks of [fromLsid, lsidLimit) that end within the limit. An invalid header or payload
 * before the limit is an error, after `onInvalid` (the dump of §3.8) ran for its lsid. Each
 * pack's buffers are released when the next one is asked for: the consumer must be done
 * with it by then (sendWlogStream copies or compresses every item at once).
 */
async function* packsWithin(
  context: StorageContext,
  device: WalbDevice,
  fromLsid: bigint,
  lsidLimit: bigint,
  signal: AbortSignal,
  sent: { endLsid: bigint },
  onInvalid: (lsid: bigint) => Promise<void>,
): AsyncGenerator<LdevPack> {
  const reader = context.devices.readLogpacks(device, fromLsid, lsidLimit);
  try {
    for (;;) {
      signal.throwIfAborted();
      const next = await reader.next();
      if (next.done === true) {
        const stop = next.value;
        if (stop.reason !== "limit" && sent.endLsid < lsidLimit) {
          await onInvalid(stop.lsid);
          throw new Error(`invalid logpack at ${stop.lsid}:${stop.reason}:${stop.detail}`);
        }
        return;
      }
      const pack = next.value;
      if (pack.shrunk) {
        await onInvalid(pack.header.logpackLsid);
        throw new Error(`invalid logpack payload at ${pack.header.logpackLsid}`);
      }
      if (pack.nextLsid > lsidLimit) {
        if (sent.endLsid === fromLsid) {
          throw new Error(`logpack at ${pack.header.logpackLsid} is larger than -wl`);
        }
        return;
      }
      yield pack;
      sent.endLsid = pack.nextLsid;
      // Resumed once the pack is in the packet (compressed copies or copied verbatim): its
      // fresh per-record buffers are freed now rather than by a late collection.
      for (const io of pack.ios) releaseBytes(io.data);
      releaseBytes(pack.block);
    }
  } finally {
    await reader.return(undefined as never);
  }
}

/** Sends the range to the first available proxy that accepts; returns what was sent. */
async function sendToProxy(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  range: TransferRange,
  sup: { pbs: number; salt: number },
): Promise<{ endLsid: bigint; diff: MetaDiff }> {
  const abort = AbortSignal.any([volume.forceStop.signal, context.runtime.forceSignal]);
  const header = {
    volId: volume.volId,
    uuid: volume.uuid,
    pbs: sup.pbs,
    salt: sup.salt,
    volSizeLb: await device.sizeLb(),
    maxLogSizePb: range.lsidE - range.recB.lsid,
  };
  for (const proxy of availableProxies(context)) {
    const where = formatNetAddr(proxy.addr);
    let accepted = false;
    try {
      return await requestPeer(context, proxy.addr, SERVER_PROTOCOLS.wlogTransfer, async (p) => {
        writeWlogTransferHeader(p, header);
        await p.flush();
        const reply = await p.readString("wlog-transfer reply");
        if (reply !== STATUS.accept) throw new ProxyRefusal(reply);
        accepted = true;
        const sent = { endLsid: range.recB.lsid };
        const dump = (lsid: bigint) => dumpBadLogpack(context, volume, device, lsid);
        await sendWlogStream(
          p,
          packsWithin(context, device, range.recB.lsid, range.lsidE, abort, sent, dump),
        );
        const isComplete = sent.endLsid === range.recE.lsid;
        const diff = metaDiff(
          metaSnap(range.recB.gid),
          metaSnap(isComplete ? range.recE.gid : range.recB.gid + 1n),
          {
            isMergeable: range.recB.isMergeable,
            isCompDiff: false,
            timestamp: range.recE.timestamp,
          },
        );
        p.write((w) => writeMetaDiff(w, diff));
        await p.flush();
        await readAck(p, "wlog-transfer ack");
        return { endLsid: sent.endLsid, diff };
      });
    } catch (error) {
      if (accepted || !(error instanceof Error)) throw error;
      context.runtime.log(
        "WARNING",
        `${FN}:proxy refused:${volume.volId}:${where}:${error.message}`,
      );
    }
  }
  throw new Error(`There is no available proxy:${volume.volId}`);
}

/** A proxy's refusal text at step 7. */
class ProxyRefusal extends Error {
  constructor(reply: string) {
    super(`not accepted:${reply}`);
    this.name = "ProxyRefusal";
  }
}
