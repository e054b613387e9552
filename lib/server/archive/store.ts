/**
 * Persistence of archive volumes (wdiff-and-archive.md §13.1, protocol-and-servers.md §2.4.7):
 * `<base>/<volId>/` with `state` (str), `uuid` and `archive_uuid` (16 raw bytes), `base`
 * (MetaState), `*.wdiff` files named canonically, `<gid>.cold` (vu64 timestamp) and
 * `tmpXXXXXX` temporaries. Every metadata file is one serialized value written atomically,
 * byte-identical to the original's, so either implementation can take over a base directory.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import {
  DEFAULT_META_STATE,
  hasWdiffSuffix,
  type MetaDiff,
  type MetaState,
  parseDiffFileName,
  readMetaState,
  writeMetaState,
} from "../../format/meta/mod.ts";
import { deserialize, serialize } from "../../format/serializer/mod.ts";
import type { ServerFs } from "../runtime/fs.ts";
import { TEMP_NAME_PATTERN } from "../runtime/fs.ts";
import { VolumeDirStore } from "../runtime/volume_store.ts";
import { PERSISTED_STATES } from "./constants.ts";

/** Size of `uuid` and `archive_uuid`. */
export const UUID_SIZE = 16;

/** A wdiff file found by a directory scan. */
export interface ScannedDiffs {
  diffs: MetaDiff[];
  /** `.wdiff` names that do not parse (left alone). */
  badNames: string[];
}

/** The volume directories of one base directory. */
export class ArchiveStore extends VolumeDirStore<ServerFs> {
  /** `init-vol`: directory, zero uuids, default base, state SyncReady. */
  async initVolume(volId: string): Promise<void> {
    await this.fs.mkdir(this.volumeDir(volId));
    await this.writeUuid(volId, new Uint8Array(UUID_SIZE));
    await this.writeArchiveUuid(volId, new Uint8Array(UUID_SIZE));
    await this.writeBase(volId, DEFAULT_META_STATE);
    await this.writeState(volId, "SyncReady");
    await this.fs.syncDir(this.baseDir);
  }

  /** Removes the volume directory recursively. */
  async removeVolume(volId: string): Promise<void> {
    await this.fs.remove(this.volumeDir(volId), { recursive: true });
    await this.fs.syncDir(this.baseDir);
  }

  async writeState(volId: string, state: string): Promise<void> {
    if (!PERSISTED_STATES.includes(state)) {
      throw new Error(`Cannot persist state ${state} of ${volId}: not SyncReady/Archived/Stopped`);
    }
    await this.fs.writeFileAtomic(this.filePath(volId, "state"), serialize((w) => w.string(state)));
  }

  /**
   * @throws {CorruptDataError} on bad bytes or an unknown state name
   */
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

  async readUuid(volId: string): Promise<Uint8Array> {
    return await this.#readUuidFile(volId, "uuid");
  }

  async writeArchiveUuid(volId: string, uuid: Uint8Array): Promise<void> {
    await this.fs.writeFileAtomic(this.filePath(volId, "archive_uuid"), uuid.slice(0, UUID_SIZE));
  }

  async readArchiveUuid(volId: string): Promise<Uint8Array> {
    return await this.#readUuidFile(volId, "archive_uuid");
  }

  async #readUuidFile(volId: string, name: string): Promise<Uint8Array> {
    const path = this.filePath(volId, name);
    const bytes = await this.fs.readFile(path);
    if (bytes.length < UUID_SIZE) {
      throw new CorruptDataError(path, 0, `${bytes.length} bytes, expected ${UUID_SIZE}`);
    }
    return bytes.slice(0, UUID_SIZE);
  }

  async writeBase(volId: string, state: MetaState): Promise<void> {
    await this.fs.writeFileAtomic(
      this.filePath(volId, "base"),
      serialize((w) => writeMetaState(w, state)),
    );
  }

  async readBase(volId: string): Promise<MetaState> {
    return deserialize(await this.fs.readFile(this.filePath(volId, "base")), readMetaState);
  }

  /** The wdiff files of a volume (dataSize = file size). */
  async scanDiffs(volId: string): Promise<ScannedDiffs> {
    const diffs: MetaDiff[] = [];
    const badNames: string[] = [];
    for (const entry of await this.fs.readDir(this.volumeDir(volId))) {
      if (!entry.isFile || !hasWdiffSuffix(entry.name)) continue;
      let diff: MetaDiff;
      try {
        diff = parseDiffFileName(entry.name);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        badNames.push(entry.name);
        continue;
      }
      const dataSize = await this.fs.fileSize(this.filePath(volId, entry.name));
      diffs.push({ ...diff, dataSize });
    }
    return { diffs, badNames };
  }

  /** `tmpXXXXXX` temporaries of a volume. */
  async tempFiles(volId: string): Promise<string[]> {
    const entries = await this.fs.readDir(this.volumeDir(volId));
    return entries.filter((e) => e.isFile && TEMP_NAME_PATTERN.test(e.name)).map((e) => e.name);
  }

  /** gids of `<gid>.cold` files. */
  async coldGids(volId: string): Promise<bigint[]> {
    const entries = await this.fs.readDir(this.volumeDir(volId));
    return entries.filter((e) => e.isFile && /^(0|[1-9][0-9]*)\.cold$/.test(e.name))
      .map((e) => BigInt(e.name.slice(0, -5))).sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  }

  async removeFile(volId: string, name: string): Promise<void> {
    await this.fs.remove(this.filePath(volId, name));
  }
}
