/**
 * The wdiff sender worker of one (volume, archive) task (protocol-and-servers.md §2.3.5,
 * wdiff-and-archive.md §9): select the mergeable chain of pending diffs (size, count and
 * UUID cuts), merge their records (newer wins), re-pack and compress them with the
 * archive's CompressOpt, run wdiff-transfer, and act on the archive's reply (delete, retry
 * with exponential backoff, or give up).
 *
 * @module
 */
import {
  createDiffFileName,
  formatMetaDiff,
  mergeDiffList,
  type MetaDiff,
  type MetaDiffManager,
  truncateBySize,
} from "../../format/meta/mod.ts";
import { type BuiltPack, type OpenedWdiff, openWdiff, uuidHex } from "../../format/wdiff/mod.ts";
import { groupPacks, mergeDiffs } from "../../format/wdiff/merge.ts";
import { compressPacks } from "../../format/wdiff/merge_workers.ts";
import { LIMITS } from "../../limits.ts";
import { HOST_TYPE, SERVER_PROTOCOLS, STATUS } from "../../protocol/constants.ts";
import { runClient } from "../../protocol/connection.ts";
import { releaseBytes } from "../release_bytes.ts";
import { runWdiffTransferClient, type WirePack } from "../wdiff_transfer.ts";
import { lazyRecordsOf } from "../wdiff_records.ts";
import {
  EXCEPTION_RETRY_DELAY_MS,
  PS,
  SELECT_ATTEMPTS_MAX,
  SENDING_STATES,
  START_RETRY_DELAY_MS,
} from "./constants.ts";
import type { HostInfoForBkp } from "./host_info.ts";
import { type ProxyContext, type ProxyVolume, type SendTask, sendTaskKey } from "./volume.ts";

const FN = "wdiffSender";

/** The diffs chosen for one transfer, opened. */
interface Selection {
  diffs: MetaDiff[];
  opened: OpenedWdiff[];
  uuid: Uint8Array;
}

function closeAll(opened: readonly OpenedWdiff[]): void {
  for (const o of opened) o.close();
}

/**
 * The mergeable list from gid 0 of an archive's pending set, truncated by size and count.
 *
 * @returns at least one diff unless nothing is pending
 */
export function selectDiffs(
  pending: MetaDiffManager,
  sizeMaxBytes: number,
  countMax: number,
): MetaDiff[] {
  const chain = pending.mergeableList(0n);
  return truncateBySize(chain, sizeMaxBytes).slice(0, Math.max(1, countMax));
}

/** Opens the selected files, cutting the list where the header UUID changes. */
async function openSelection(
  context: ProxyContext,
  volume: ProxyVolume,
  archiveName: string,
): Promise<Selection | null> {
  const store = context.store;
  const pending = volume.pendingOf(archiveName);
  for (let attempt = 0; attempt < SELECT_ATTEMPTS_MAX; attempt++) {
    const diffs = selectDiffs(
      pending,
      context.config.maxWdiffSendSizeBytes,
      context.config.maxWdiffSendCount,
    );
    if (diffs.length === 0) return null;
    const opened: OpenedWdiff[] = [];
    let uuid: Uint8Array | undefined;
    let vanished: MetaDiff | undefined;
    for (const diff of diffs) {
      let file: OpenedWdiff;
      try {
        file = await openWdiff(
          `${store.sendtoDir(volume.volId, archiveName)}/${createDiffFileName(diff)}`,
        );
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) {
          closeAll(opened);
          throw error;
        }
        vanished = diff;
        break;
      }
      const fileUuid = file.reader.header.uuid;
      if (uuid !== undefined && uuidHex(uuid) !== uuidHex(fileUuid)) {
        file.close();
        break;
      }
      uuid ??= fileUuid;
      opened.push(file);
    }
    if (vanished !== undefined) {
      closeAll(opened);
      pending.remove(vanished);
      continue;
    }
    return { diffs: diffs.slice(0, opened.length), opened, uuid: uuid! };
  }
  return null;
}

/** Merged, re-packed and compressed packs of the selection. */
async function* mergedPacks(
  selection: Selection,
  info: HostInfoForBkp,
  signal: AbortSignal,
): AsyncGenerator<WirePack> {
  const records = mergeDiffs(selection.opened.map((o) => lazyRecordsOf(o.reader)), {
    maxBlocks: LIMITS.diffIoLbDefault,
  });
  const setting = { type: info.compression.type, level: info.compression.level };
  const packs: AsyncGenerator<BuiltPack> = compressPacks(
    groupPacks(records),
    setting,
    info.compression.numCpu,
  );
  for await (const pack of packs) {
    signal.throwIfAborted();
    yield pack;
    // Resumed after the pack was written to the socket: its fresh 32 MiB are freed at once.
    releaseBytes(pack.block);
    releaseBytes(pack.payload);
  }
}

/** Deletes sent (or obsolete) files of an archive's pending set. */
async function deleteSent(
  context: ProxyContext,
  volume: ProxyVolume,
  archiveName: string,
  diffs: readonly MetaDiff[],
): Promise<void> {
  const store = context.store;
  const dir = store.sendtoDir(volume.volId, archiveName);
  await volume.locked(async () => {
    const pending = volume.pendingOf(archiveName);
    for (const diff of diffs) {
      pending.remove(diff);
      await store.fs.remove(`${dir}/${createDiffFileName(diff)}`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    await store.fs.syncDir(dir);
  });
}

/** The next retry delay: `-delay` first, doubling up to `-maxdelay`. */
export function nextRetryDelayMs(
  previousMs: number,
  config: { minRetryDelayMs: number; maxRetryDelayMs: number },
): number {
  if (previousMs <= 0) return config.minRetryDelayMs;
  return Math.min(previousMs * 2, config.maxRetryDelayMs);
}

function giveUp(context: ProxyContext, volume: ProxyVolume, archiveName: string): void {
  volume.sendError.add(archiveName);
  context.runtime.log("ERROR", `SEND_ERROR_NO_MORE_RETRY:${volume.volId}:${archiveName}`);
}

/**
 * Runs one queued task (the dispatcher's worker).
 */
export async function runSendTask(context: ProxyContext, task: SendTask): Promise<void> {
  const volume = context.volumes.get(task.volId);
  if (volume === undefined) return;
  const { archiveName } = task;
  const key = sendTaskKey(task.volId, archiveName);
  const stopState = volume.stop.state;
  if (stopState === "Stopping" || stopState === "ForceStopping") return;
  if (volume.state.state === PS.start) {
    context.queue.pushForce(key, task, START_RETRY_DELAY_MS);
    return;
  }
  if (!SENDING_STATES.includes(volume.state.state)) return;
  const info = volume.archives.get(archiveName);
  if (info === undefined) return;
  if (volume.isSending(archiveName)) return;
  const endSend = volume.startSend(archiveName);
  let selection: Selection | null = null;
  try {
    selection = await openSelection(context, volume, archiveName);
    if (selection === null) return;
    await send(context, volume, task, info, selection);
  } finally {
    if (selection !== null) closeAll(selection.opened);
    endSend();
  }
}

async function send(
  context: ProxyContext,
  volume: ProxyVolume,
  task: SendTask,
  info: HostInfoForBkp,
  selection: Selection,
): Promise<void> {
  const { archiveName } = task;
  const key = sendTaskKey(volume.volId, archiveName);
  const runtime = context.runtime;
  const merged = mergeDiffList(selection.diffs);
  const signal = AbortSignal.any([runtime.forceSignal, volume.forceStop.signal]);
  const what = `${volume.volId}:${archiveName}:${formatMetaDiff(merged)}`;
  let reply: string;
  try {
    const conn = await runtime.net.connect(
      { hostname: info.addrPort.addr, port: info.addrPort.port },
      { timeoutMs: context.config.connectTimeoutMs },
    );
    const onAbort = () => conn.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      reply = await runClient(conn, {
        clock: runtime.clock,
        timeoutMs: runtime.timeoutMs,
        clientId: runtime.serverId,
        protocolName: SERVER_PROTOCOLS.wdiffTransfer,
      }, (packet) =>
        runWdiffTransferClient(packet, {
          volId: volume.volId,
          hostType: HOST_TYPE.proxy,
          uuid: selection.uuid,
          maxIoBlocks: 0,
          sizeLb: volume.sizeLb,
          diff: merged,
        }, mergedPacks(selection, info, signal)));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  } catch (error) {
    if (signal.aborted) {
      runtime.log("WARNING", `${FN}:force stopped:${what}`);
      return;
    }
    runtime.log(
      "WARNING",
      `${FN}:failed:${what}:${error instanceof Error ? error.message : error}`,
    );
    context.queue.pushForce(
      key,
      { ...task, retryDelayMs: EXCEPTION_RETRY_DELAY_MS },
      EXCEPTION_RETRY_DELAY_MS,
    );
    return;
  }
  await onReply(context, volume, task, selection, reply, what);
}

async function onReply(
  context: ProxyContext,
  volume: ProxyVolume,
  task: SendTask,
  selection: Selection,
  reply: string,
  what: string,
): Promise<void> {
  const { archiveName } = task;
  const key = sendTaskKey(volume.volId, archiveName);
  const runtime = context.runtime;
  const fresh: SendTask = { ...task, retryDelayMs: 0 };
  switch (reply) {
    case STATUS.accept:
      volume.lastWdiffSentSec.set(archiveName, context.nowSec());
      await deleteSent(context, volume, archiveName, selection.diffs);
      runtime.log("INFO", `${FN}:sent:${what}:${selection.diffs.length}`);
      context.queue.push(key, fresh, 0);
      return;
    case STATUS.smallerLvSize:
    case STATUS.archiveNotFound:
      runtime.log("ERROR", `${FN}:${reply}:${what}`);
      giveUp(context, volume, archiveName);
      return;
    case STATUS.differentUuid:
    case STATUS.tooOldDiff:
      runtime.log("WARNING", `${FN}:${reply}:${what}:deleted`);
      await deleteSent(context, volume, archiveName, selection.diffs);
      context.queue.pushForce(key, fresh, 0);
      return;
  }
  const elapsedMs = runtime.clock.nowMs() - volume.lastWlogReceivedSec * 1000;
  if (
    reply !== STATUS.tooNewDiff && reply !== STATUS.syncing && volume.lastWlogReceivedSec !== 0 &&
    elapsedMs > context.config.retryTimeoutMs
  ) {
    runtime.log("ERROR", `${FN}:reached retryTimeout:${what}:${reply}`);
    giveUp(context, volume, archiveName);
    return;
  }
  const delayMs = nextRetryDelayMs(task.retryDelayMs, context.config);
  runtime.log("INFO", `${FN}:retry in ${delayMs} ms:${what}:${reply}`);
  context.queue.pushForce(key, { ...task, retryDelayMs: delayMs }, delayMs);
}
