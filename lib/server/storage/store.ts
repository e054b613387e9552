/**
 * Persistence of storage volumes (wdiff-and-archive.md §15, protocol-and-servers.md §2.2.7):
 *
 * ```
 * <base>/<volId>/
 *   path    str: the walb device path
 *   state   str: SyncReady, Stopped, Target or Standby
 *   uuid    raw[16]: the device UUID (zero at init; copied from the super at a log reset)
 *   done    MetaLsidGid: last fully transferred snapshot
 *   queue   the snapshot queue file (queue_file.ts)
 *   logpackheader-<lsid>   optional dumps of bad logpack headers
 * ```
 *
 * Every file is written atomically (temporary, fsync, rename, fsync the directory), byte
 * identical to the original's, so either implementation can take over a base directory.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import { type MetaLsidGid, readMetaLsidGid, writeMetaLsidGid } from "../../format/meta/mod.ts";
import { deserialize, serialize } from "../../format/serializer/mod.ts";
import { VolumeDirStore } from "../runtime/volume_store.ts";
import type { ServerFs } from "../runtime/fs.ts";
import { PERSISTED_STATES } from "./constants.ts";
import { decodeQueueFile, encodeQueueFile, type QueueFile } from "./queue_file.ts";

/** Size of the `uuid` file. */
export const UUID_SIZE = 16;

/** Longest walb device path we read back [bytes]. */
const PATH_SIZE_MAX = 4096;

/** The volume directories of one base directory. */
export class StorageStore extends VolumeDirStore<ServerFs> {
  /** `init-vol`: the directory with every file, state SyncReady. */
  async initVolume(
    volId: string,
    init: { wdevPath: string; done: MetaLsidGid; queueSalt: number },
  ): Promise<void> {
    await this.fs.mkdir(this.volumeDir(volId));
    await this.writePath(volId, init.wdevPath);
    await this.writeUuid(volId, new Uint8Array(UUID_SIZE));
    await this.writeDone(volId, init.done);
    await this.writeQueue(volId, { salt: init.queueSalt, records: [] });
    await this.writeState(volId, "SyncReady");
    await this.fs.syncDir(this.baseDir);
  }

  /** Removes the volume directory recursively. */
  async removeVolume(volId: string): Promise<void> {
    await this.fs.remove(this.volumeDir(volId), { recursive: true });
    await this.fs.syncDir(this.baseDir);
  }

  async writePath(volId: string, path: string): Promise<void> {
    await this.fs.writeFileAtomic(this.filePath(volId, "path"), serialize((w) => w.string(path)));
  }

  /** @throws {CorruptDataError} on bad bytes */
  async readPath(volId: string): Promise<string> {
    const bytes = await this.fs.readFile(this.filePath(volId, "path"));
    return deserialize(bytes, (r) => r.string("path", PATH_SIZE_MAX));
  }

  async writeState(volId: string, state: string): Promise<void> {
    if (!PERSISTED_STATES.includes(state)) {
      throw new Error(`Cannot persist state ${state} of ${volId}: not a steady state`);
    }
    await this.fs.writeFileAtomic(this.filePath(volId, "state"), serialize((w) => w.string(state)));
  }

  /** @throws {CorruptDataError} on bad bytes or a state that is never persisted */
  async readState(volId: string): Promise<string> {
    const path = this.filePath(volId, "state");
    const state = deserialize(await this.fs.readFile(path), (r) => r.string("state", 64));
    if (!PERSISTED_STATES.includes(state)) {
      throw new CorruptDataError(path, 0, `state ${state} cannot be persisted`);
    }
    return state;
  }

  async writeUuid(volId: string, uuid: Uint8Array): Promise<void> {
    await this.fs.writeFileAtomic(this.filePath(volId, "uuid"), uuid.slice(0, UUID_SIZE));
  }

  /** @throws {CorruptDataError} when the file is short */
  async readUuid(volId: string): Promise<Uint8Array> {
    const path = this.filePath(volId, "uuid");
    const bytes = await this.fs.readFile(path);
    if (bytes.length < UUID_SIZE) {
      throw new CorruptDataError(path, 0, `${bytes.length} bytes, expected ${UUID_SIZE}`);
    }
    return bytes.slice(0, UUID_SIZE);
  }

  async writeDone(volId: string, done: MetaLsidGid): Promise<void> {
    await this.fs.writeFileAtomic(
      this.filePath(volId, "done"),
      serialize((w) => writeMetaLsidGid(w, done)),
    );
  }

  /** @throws {CorruptDataError} on bad bytes */
  async readDone(volId: string): Promise<MetaLsidGid> {
    return deserialize(await this.fs.readFile(this.filePath(volId, "done")), readMetaLsidGid);
  }

  async writeQueue(volId: string, queue: QueueFile): Promise<void> {
    await this.fs.writeFileAtomic(this.filePath(volId, "queue"), encodeQueueFile(queue));
  }

  /** @throws {CorruptDataError} on a bad queue file */
  async readQueue(volId: string): Promise<QueueFile> {
    return decodeQueueFile(await this.fs.readFile(this.filePath(volId, "queue")));
  }

  /** Dumps a bad logpack header block to `logpackheader-<lsid>`. */
  async dumpLogpackHeader(volId: string, lsid: bigint, block: Uint8Array): Promise<void> {
    await this.fs.writeFileAtomic(this.filePath(volId, `logpackheader-${lsid}`), block);
  }
}
