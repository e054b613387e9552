/**
 * Proxy side of `wlog-transfer` (protocol-and-servers.md §1.10.1, §2.3.4,
 * wdiff-and-archive.md §6.3, §14): the acceptance checks and their error texts, then the
 * stream converted into an *indexed* wdiff in `received/tmpXXXXXX`, renamed to its canonical
 * name, hard-linked into every `sendto/<archive>/`, the send tasks queued, and only then the
 * Ack (Fin). A force stop or shutdown aborts silently (no Ack, temporary removed, state back
 * to Started).
 *
 * @module
 */
import {
  createDiffFileName,
  formatMetaDiff,
  isCleanDiff,
  type MetaDiff,
} from "../../format/meta/mod.ts";
import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import { IndexedWdiffWriter } from "../../format/wdiff/mod.ts";
import { DEFAULT_COMPRESSION, type StoredData } from "../../format/wdiff/stored_data.ts";
import { diffRecordOfLogIo } from "../../format/wdiff/wlog_to_wdiff.ts";
import { isValidPbs } from "../../format/wlog/constants.ts";
import { BufferedWriter } from "../../io/stream.ts";
import { LIMITS, PROXY_LIMITS } from "../../limits.ts";
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { finClose, sendError } from "../../protocol/reply.ts";
import { releaseBytes } from "../release_bytes.ts";
import { checkVolumeId } from "../runtime/format.ts";
import type { ServerContext } from "../runtime/server.ts";
import {
  readWlogTransferDiff,
  readWlogTransferHeader,
  receiveWlogStream,
  type WlogTransferHeader,
  writeWlogTransferAck,
} from "../wlog_transfer.ts";
import { PS } from "./constants.ts";
import { PooledIndexedAdder, storedFromWire } from "./store_pool.ts";
import type { ProxyContext, ProxyVolume } from "./volume.ts";

const FN = "wlogTransferServer";
const MIB = 1024 * 1024;

/** The acceptance checks of §1.10.1, in order; returns the volume and the foreground release. */
async function accept(
  context: ProxyContext,
  header: WlogTransferHeader,
): Promise<{ volume: ProxyVolume; release: () => void }> {
  checkVolumeId(header.volId, FN);
  if (!isValidPbs(header.pbs)) throw new RequestError(`${FN}:bad pbs:${header.pbs}`);
  const release = context.runtime.foreground.acquire(FN);
  try {
    const volume = context.volume(header.volId);
    const freeSpace = context.config.freeSpaceBytes;
    if (freeSpace !== undefined) {
      const needMiB = header.maxLogSizePb * BigInt(header.pbs) / BigInt(MIB) + 1n;
      const freeMiB = BigInt(Math.floor(await freeSpace(context.config.baseDir) / MIB));
      if (freeMiB < needMiB) {
        throw new RequestError(`${FN}:not enough disk space:${freeMiB}:${needMiB}`);
      }
    }
    volume.stop.verifyNotStopping(FN, header.volId);
    if (volume.state.state !== PS.started) {
      throw new RequestError(`${FN}:bad state:${header.volId}:${volume.state.state}`);
    }
    return { volume, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Serves one `wlog-transfer` connection. */
export async function serveWlogTransfer(
  context: ProxyContext,
  server: ServerContext,
): Promise<void> {
  const packet = server.packet;
  const header = await readWlogTransferHeader(packet);
  let volume: ProxyVolume;
  let release: () => void;
  try {
    ({ volume, release } = await accept(context, header));
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    sendError(packet, error.message);
    await packet.flush();
    packet.close();
    server.log("WARNING", error.message);
    return;
  }
  try {
    const transaction = volume.state.begin(PS.started, PS.wlogRecv, FN);
    try {
      packet.writeString(STATUS.accept);
      await packet.flush();
      const signal = AbortSignal.any([server.signal, volume.forceStop.signal]);
      const diff = await receiveFile(context, volume, header, server, signal);
      await distribute(context, volume, diff);
      if (header.volSizeLb > volume.sizeLb) {
        await context.store.writeSize(volume.volId, header.volSizeLb);
        volume.sizeLb = header.volSizeLb;
      }
      volume.lastWlogReceivedSec = context.nowSec();
      volume.sendError.clear();
      transaction.commit(PS.started);
      server.log("INFO", `${FN}:received:${volume.volId}:${formatMetaDiff(diff)}`);
    } finally {
      transaction.rollback();
    }
    writeWlogTransferAck(packet);
    await finClose(packet);
  } finally {
    release();
  }
}

/**
 * Converts the stream into `received/tmpXXXXXX`, reads the MetaDiff (must be clean), renames
 * the file to its canonical name; returns the MetaDiff with dataSize = file size.
 */
async function receiveFile(
  context: ProxyContext,
  volume: ProxyVolume,
  header: WlogTransferHeader,
  server: ServerContext,
  signal: AbortSignal,
): Promise<MetaDiff> {
  const store = context.store;
  const dir = store.receivedDir(volume.volId);
  const tmp = await store.fs.makeTempFile(dir);
  try {
    const file = await store.fs.openWrite(tmp);
    try {
      const writer = new IndexedWdiffWriter(new BufferedWriter(file), {
        uuid: header.uuid,
        maxIoBlocks: LIMITS.diffIoLbDefault,
        compression: DEFAULT_COMPRESSION,
      });
      const adder = new PooledIndexedAdder(
        writer,
        () => context.storePool(),
        DEFAULT_COMPRESSION,
        PROXY_LIMITS.wlogStoreQueuedBytesMax,
      );
      const packs = receiveWlogStream(server.packet, {
        pbs: header.pbs,
        salt: header.salt,
        signal,
      });
      try {
        for await (const pack of packs) {
          const records: DiffRecord[] = [];
          const ready: (StoredData | undefined)[] = [];
          for (const [i, io] of pack.ios.entries()) {
            const record = diffRecordOfLogIo(io);
            const compressed = pack.compressed[i];
            const stored = record?.kind === "normal"
              ? storedFromWire(io, compressed, header.salt)
              : undefined;
            if (record !== null) {
              records.push(record);
              ready.push(stored);
            }
            // Normal data stored from its wire form, or not normal: the uncompressed bytes are
            // not needed any more. Else they go to the worker (transferred; the stream gave us
            // a fresh buffer per IO).
            if (record?.kind !== "normal" || (stored !== undefined && stored.stored !== io.data)) {
              releaseBytes(io.data);
            }
            if (compressed !== undefined && stored?.stored !== compressed) {
              releaseBytes(compressed);
            }
          }
          releaseBytes(pack.block);
          await adder.add(records, ready);
        }
        await adder.finish();
      } finally {
        await adder.settle();
      }
      await writer.close();
      await file.syncData();
    } finally {
      file.close();
    }
    const received = await readWlogTransferDiff(server.packet);
    signal.throwIfAborted();
    if (!isCleanDiff(received)) {
      throw new RequestError(`${FN}:the diff is not clean:${formatMetaDiff(received)}`);
    }
    const diff = { ...received, dataSize: await store.fs.fileSize(tmp) };
    await store.fs.commitTempFile(tmp, `${dir}/${createDiffFileName(diff)}`);
    await store.fs.syncDir(dir);
    return diff;
  } catch (error) {
    await store.fs.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Registers a received diff and hands it to every archive: a hard link in each
 * `sendto/<archive>/` (replacing a resent one of the same name), removal from `received/`,
 * a non-forcing send task delayed by the archive's `wdiffSendDelaySec`.
 */
async function distribute(
  context: ProxyContext,
  volume: ProxyVolume,
  diff: MetaDiff,
): Promise<void> {
  const store = context.store;
  const fs = store.fs;
  const volId = volume.volId;
  const fileName = createDiffFileName(diff);
  const source = `${store.receivedDir(volId)}/${fileName}`;
  await volume.locked(async () => {
    if (volume.received.has(diff)) volume.received.remove(diff);
    volume.received.add(diff);
    for (const name of volume.archiveNames()) {
      await store.ensureSendtoDir(volId, name);
      const dir = store.sendtoDir(volId, name);
      const target = `${dir}/${fileName}`;
      if (await fs.exists(target)) await fs.remove(target);
      await fs.link(source, target);
      await fs.syncDir(dir);
      const pending = volume.pendingOf(name);
      if (pending.has(diff)) pending.remove(diff);
      pending.add(diff);
    }
    await fs.remove(source);
    await fs.syncDir(store.receivedDir(volId));
    volume.received.remove(diff);
  });
  for (const [name, info] of volume.archives) {
    context.queueSend(volId, name, info.wdiffSendDelaySec * 1000);
  }
}
