/**
 * Archive side of `wdiff-transfer` (protocol-and-servers.md §1.10.2, wdiff-and-archive.md
 * §13.1): the decision sequence and its replies, then the received packs written verbatim
 * after a sorted header with the received UUID into `tmpXXXXXX`, an end pack, fdatasync every
 * `-fi` bytes, rename to the canonical name, register, Ack (Fin).
 *
 * @module
 */
import { baseImageName } from "../../archive-backend/mod.ts";
import {
  createDiffFileName,
  diffRelation,
  formatMetaDiff,
  type MetaDiff,
} from "../../format/meta/mod.ts";
import { SortedWdiffWriter } from "../../format/wdiff/mod.ts";
import { BufferedWriter } from "../../io/stream.ts";
import { HOST_TYPE, STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { finClose, sendError } from "../../protocol/reply.ts";
import type { ServerContext } from "../runtime/server.ts";
import { checkVolumeId } from "../runtime/format.ts";
import {
  readWdiffTransferHeader,
  receiveWdiffPacks,
  type WdiffTransferHeader,
  writeWdiffTransferAck,
} from "../wdiff_transfer.ts";
import { AS } from "./constants.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

const FN = "wdiffTransferServer";

/** A reply decided before any data: a special status (Fin) or an error text (plain close). */
type Decision = { reply: string; fin: boolean } | { reply: "accept" };

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The decision sequence of §1.10.2 (first match wins). */
async function decide(
  context: ArchiveContext,
  volume: ArchiveVolume,
  header: WdiffTransferHeader,
): Promise<Decision> {
  const volId = header.volId;
  volume.stop.verifyNotStopping(FN, volId);
  if (header.hostType !== HOST_TYPE.proxy && header.hostType !== HOST_TYPE.archive) {
    throw new RequestError(`${FN}:invalid host type:${header.hostType}`);
  }
  const state = volume.state.state;
  if (state === AS.stopped || state === AS.start) return { reply: STATUS.stopped, fin: true };
  if (state === AS.fullSync || state === AS.hashSync) return { reply: STATUS.syncing, fin: true };
  if (state === AS.wdiffRecv) return { reply: STATUS.wdiffRecv, fin: true };
  if (state !== AS.archived) throw new RequestError(`${FN}:bad state:${volId}:${state}`);
  if (!(await context.store.exists(volId))) return { reply: STATUS.archiveNotFound, fin: true };
  if (header.hostType === HOST_TYPE.proxy && !equalBytes(header.uuid, volume.uuid)) {
    return { reply: STATUS.differentUuid, fin: true };
  }
  const base = baseImageName(volId);
  const sizeBytes = header.sizeLb * 512n;
  let imageSize = BigInt(await context.backend.sizeBytes(base));
  if (context.config.autoResize && imageSize < sizeBytes) {
    await context.backend.resize(base, Number(sizeBytes));
    imageSize = sizeBytes;
  }
  if (imageSize < sizeBytes) return { reply: STATUS.smallerLvSize, fin: true };
  const relation = diffRelation(volume.latestSnap(), header.diff);
  if (relation === "TOO_OLD") return { reply: STATUS.tooOldDiff, fin: true };
  if (relation === "TOO_NEW") return { reply: STATUS.tooNewDiff, fin: true };
  if (relation === "NOT_APPLICABLE") {
    throw new RequestError(`${FN}:not applicable diff:${volId}:${formatMetaDiff(header.diff)}`);
  }
  return { reply: STATUS.accept };
}

/** Serves one `wdiff-transfer` connection. */
export async function serveWdiffTransfer(
  context: ArchiveContext,
  server: ServerContext,
): Promise<void> {
  const packet = server.packet;
  const header = await readWdiffTransferHeader(packet);
  let decision: Decision;
  let releaseForeground: (() => void) | undefined;
  let volume: ArchiveVolume;
  try {
    checkVolumeId(header.volId, FN);
    releaseForeground = context.runtime.foreground.acquire(FN);
    volume = context.volume(header.volId);
    decision = await decide(context, volume, header);
  } catch (error) {
    releaseForeground?.();
    if (!(error instanceof RequestError)) throw error;
    sendError(packet, error.message);
    await packet.flush();
    server.log("WARNING", error.message);
    return;
  }
  try {
    if (decision.reply !== STATUS.accept) {
      packet.writeString(decision.reply);
      await finClose(packet);
      server.log("INFO", `${FN}:${decision.reply}:${header.volId}:${formatMetaDiff(header.diff)}`);
      return;
    }
    const transaction = volume.state.begin(AS.archived, AS.wdiffRecv, FN);
    try {
      packet.writeString(STATUS.accept);
      await packet.flush();
      const diff = await receiveFile(context, volume, header, server);
      volume.diffs.add(diff);
      transaction.commit(AS.archived);
      volume.lastWdiffReceivedSec = context.nowSec();
      server.log("INFO", `${FN}:received:${header.volId}:${formatMetaDiff(diff)}`);
    } finally {
      transaction.rollback();
    }
    writeWdiffTransferAck(packet);
    await finClose(packet);
  } finally {
    releaseForeground();
  }
}

/** Writes the stream to a temporary file and renames it; returns the MetaDiff with dataSize. */
async function receiveFile(
  context: ArchiveContext,
  volume: ArchiveVolume,
  header: WdiffTransferHeader,
  server: ServerContext,
): Promise<MetaDiff> {
  const store = context.store;
  const tmp = await store.fs.makeTempFile(store.volumeDir(volume.volId));
  try {
    const file = await store.fs.openWrite(tmp);
    try {
      const buffered = new BufferedWriter(file);
      const writer = new SortedWdiffWriter(buffered, { uuid: header.uuid });
      let sinceSync = 0;
      // Each pack is written (copied or sent to the file) before the next one is read.
      const packs = receiveWdiffPacks(server.packet, {
        signal: server.signal,
        reusePayloadBuffer: true,
      });
      for await (const pack of packs) {
        if (volume.stop.isForce) throw new RequestError(`${FN}:force stopped:${volume.volId}`);
        await writer.addPack(pack.block, pack.payload);
        sinceSync += pack.block.length + pack.payload.length;
        if (sinceSync >= context.config.fsyncIntervalBytes) {
          await buffered.flush();
          await file.syncData();
          sinceSync = 0;
        }
      }
      await writer.close();
      await file.syncData();
    } finally {
      file.close();
    }
    const dataSize = await store.fs.fileSize(tmp);
    const diff = { ...header.diff, dataSize };
    await store.fs.commitTempFile(tmp, store.filePath(volume.volId, createDiffFileName(diff)));
    await store.fs.syncDir(store.volumeDir(volume.volId));
    return diff;
  } catch (error) {
    await store.fs.remove(tmp).catch(() => {});
    throw error;
  }
}
