/**
 * Storage side of `full-bkp` (protocol-and-servers.md §1.10.3, §1.11.4, wdiff-and-archive.md
 * §10, §16): `SyncReady → FullSync`, the archive's acceptance, `accept` to walbc, the log
 * reset (done = (0, 0), empty queue, new UUID, state file SyncReady), the UUID and its Ack,
 * device monitoring (new writes flow to the proxies from gid 0 at once), the whole device
 * read in bulks (zero bulks as `00`, others compressed with `-sync-cmpr` and checksummed,
 * throttled by `-fst`), the archive's Ack, an explicit snapshot gidE, the MetaSnap
 * (0, gidE) and its Ack, then `FullSync → Stopped → StartTarget → Target`.
 *
 * @module
 */
import { metaSnap, writeMetaSnap } from "../../format/meta/mod.ts";
import { HOST_TYPE, SERVER_PROTOCOLS, STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import type { Packet } from "../../protocol/packet.ts";
import {
  readAck,
  receiveStringVector,
  sendAcceptAsync,
  sendErrorReply,
} from "../../protocol/reply.ts";
import { writeEncodedBulk, writeFullSyncRequest } from "../archive/full_sync.ts";
import { encodeReads } from "../bulk_compressor.ts";
import { codesInThread } from "../bulk_encode.ts";
import { releaseBytes } from "../release_bytes.ts";
import { readAhead } from "../../io/read_ahead.ts";
import { FULL_SYNC_LIMITS } from "../../limits.ts";
import { checkVolumeId, parseSizeWithUnit } from "../runtime/format.ts";
import type { ServerContext } from "../runtime/server.ts";
import { BULK_BYTES_MAX, BULK_BYTES_MIN, DEFAULT_BULK_BYTES, SS } from "./constants.ts";
import type { DeviceDataReader } from "./devices.ts";
import { startMonitoring, stopMonitoring } from "./monitor.ts";
import { requestPeer } from "./proxy_monitor.ts";
import { resetLogAndRecords, takeVolumeSnapshot } from "./records.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

const FN = "c2sFullSyncServer";
const LB = 512;

/** Parses `full-bkp`'s optional bulk size (512 B … 4 MiB, a multiple of 512) into LB. */
export function parseBulkLb(text: string | undefined, context: string): number {
  if (text === undefined) return DEFAULT_BULK_BYTES / LB;
  const bytes = parseSizeWithUnit(text, context);
  if (bytes < BigInt(BULK_BYTES_MIN) || bytes > BigInt(BULK_BYTES_MAX)) {
    throw new RequestError(`${context}:bulk size out of range:${text}`);
  }
  return Number(bytes) / LB | 0;
}

/** Serves `full-bkp` (walbc connection W). */
export async function serveFullBackup(
  context: StorageContext,
  server: ServerContext,
): Promise<void> {
  let volume: StorageVolume;
  let bulkLb: number;
  try {
    const params = await receiveStringVector(server.packet);
    volume = context.volume(checkVolumeId(params[0] ?? "", FN));
    bulkLb = parseBulkLb(params[1], FN);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    server.log("ERROR", error.message);
    return; // no reply: the client sees EOF (§1.9.5)
  }
  let release: () => void;
  try {
    release = context.runtime.foreground.acquire(FN);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    await sendErrorReply(server.packet, error.message);
    return;
  }
  try {
    volume.stop.verifyNotStopping(FN, volume.volId);
    const tx = volume.state.begin(SS.syncReady, SS.fullSync, FN);
    try {
      const finished = await runBackup(context, volume, server, bulkLb);
      if (!finished) return;
      tx.commit(SS.stopped);
    } catch (error) {
      stopMonitoring(volume);
      context.dropTask(volume.volId);
      throw error;
    } finally {
      tx.rollback();
    }
    const start = volume.state.begin(SS.stopped, SS.startTarget, FN);
    try {
      await context.store.writeState(volume.volId, SS.target);
      start.commit(SS.target);
    } finally {
      start.rollback();
    }
    context.pushTask(volume.volId, 0);
    server.log("INFO", `dirty-full-sync3 succeeded:${volume.volId}`);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    server.log("ERROR", `dirty-full-sync3 failed:${volume.volId}:${error.message}`);
  } finally {
    release();
  }
}

/**
 * The exchange with the archive. Returns false when the archive refused (walbc was told),
 * true when the archive acknowledged the final MetaSnap.
 */
async function runBackup(
  context: StorageContext,
  volume: StorageVolume,
  server: ServerContext,
  bulkLb: number,
): Promise<boolean> {
  const device = await context.deviceOf(volume);
  const sizeLb = await device.sizeLb();
  const curTime = context.nowSec();
  return await requestPeer(
    context,
    context.config.archive,
    SERVER_PROTOCOLS.dirtyFullSync,
    async (archive, archiveId) => {
      writeFullSyncRequest(archive, {
        hostType: HOST_TYPE.storage,
        volId: volume.volId,
        sizeLb,
        curTime: BigInt(curTime),
        bulkLb: BigInt(bulkLb),
        compression: context.config.syncCompression,
      });
      await archive.flush();
      const reply = await archive.readString("dirty-full-sync3 reply");
      if (reply !== STATUS.accept) {
        await sendErrorReply(
          server.packet,
          `backupClient:not accepted by archive:${archiveId}:${reply}`,
        );
        return false;
      }
      server.log("INFO", `dirty-full-sync3 started:${volume.volId}:${sizeLb}:${bulkLb}`);
      await sendAcceptAsync(server.packet).catch((error) => {
        server.log("WARNING", `${FN}:walbc connection:${error.message}`);
      });
      await resetLogAndRecords(context, volume, device, 0n);
      await context.store.writeState(volume.volId, SS.syncReady);
      archive.writeBytes(volume.uuid);
      await archive.flush();
      await readAck(archive, "dirty-full-sync3 uuid ack");
      startMonitoring(context, volume);
      await sendDeviceData(context, volume, archive, { sizeLb, bulkLb });
      await readAck(archive, "dirty-full-sync3 data ack");
      const snapshot = await takeVolumeSnapshot(context, volume, device, false);
      context.pushTask(volume.volId, 0);
      archive.write((w) => writeMetaSnap(w, metaSnap(0n, snapshot.gid)));
      await archive.flush();
      await readAck(archive, "dirty-full-sync3 final ack");
      return true;
    },
  );
}

/**
 * Reads the device in bulks and sends them (§1.11.4), throttled by the full-scan rate. The
 * device is read several bulks at a time and up to `readAheadCountMax` reads ahead; the
 * bulks are compressed by `numCpu` workers (-sync-cmpr) while the next read and the previous
 * socket write go on; output is written to the socket in pieces of at least
 * `socketWriteSizeMin`. The bytes on the wire are those of one bulk at a time, in order.
 */
async function sendDeviceData(
  context: StorageContext,
  volume: StorageVolume,
  archive: Packet,
  init: { sizeLb: bigint; bulkLb: number },
): Promise<void> {
  const clock = context.runtime.clock;
  const abort = AbortSignal.any([volume.forceStop.signal, context.runtime.forceSignal]);
  // runBackup reset the WAL first (resetLogAndRecords).
  const reader = await context.devices.openData(await context.deviceOf(volume), {
    afterWalReset: true,
  });
  try {
    const startMs = clock.nowMs();
    let doneBytes = 0;
    const bulkBytes = init.bulkLb * LB;
    const sizeBytes = Number(init.sizeLb) * LB;
    const compression = context.config.syncCompression;
    const workerCount = codesInThread(compression.type)
      ? 0
      : Math.min(compression.numCpu, FULL_SYNC_LIMITS.compressWorkerCountMax);
    const reads = readAhead(
      readDevice(reader, init.sizeLb, bulkBytes, abort),
      FULL_SYNC_LIMITS.readAheadCountMax,
    );
    const encoded = encodeReads(reads, {
      bulkBytes,
      compression,
      workerCount,
      inFlightMax: workerCount + 1,
    });
    // Stored bulks held by the packet until its next flush, then freed at once (fewer
    // collections: most of the memory churned here is outside V8's heap).
    const held: Uint8Array[] = [];
    const flush = async () => {
      await archive.flush();
      for (const stored of held) releaseBytes(stored);
      held.length = 0;
    };
    for await (const bulks of encoded) {
      for (const bulk of bulks) {
        abort.throwIfAborted();
        writeEncodedBulk(archive, bulk);
        if (bulk.stored !== null) held.push(bulk.stored);
        if (archive.pendingSize >= FULL_SYNC_LIMITS.socketWriteSizeMin) await flush();
        doneBytes = Math.min(doneBytes + bulkBytes, sizeBytes);
        const rate = context.fullScanBytesPerSec;
        if (rate > 0) {
          const aheadMs = doneBytes * 1000 / rate - (clock.nowMs() - startMs);
          if (aheadMs > 0) {
            await flush();
            await clock.sleep(Math.ceil(aheadMs), abort);
          }
        }
      }
    }
    await flush();
  } finally {
    await reader.close();
  }
}

/** The device's data in reads of whole bulks (up to `deviceReadSizeMax` each), in order. */
async function* readDevice(
  reader: DeviceDataReader,
  sizeLb: bigint,
  bulkBytes: number,
  abort: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const bulksPerRead = Math.max(1, Math.floor(FULL_SYNC_LIMITS.deviceReadSizeMax / bulkBytes));
  const readLb = BigInt(bulksPerRead * bulkBytes / LB);
  for (let offsetLb = 0n; offsetLb < sizeLb;) {
    abort.throwIfAborted();
    const remaining = sizeLb - offsetLb;
    const lengthLb = Number(remaining < readLb ? remaining : readLb);
    yield await reader.read(Number(offsetLb) * LB, lengthLb * LB);
    offsetLb += BigInt(lengthLb);
  }
}
