/**
 * Persistence of proxy volumes (wdiff-and-archive.md §14, protocol-and-servers.md §2.3.6):
 *
 * ```
 * <base>/<volId>/
 *   size                    vu64 volume size [lb]
 *   <archiveName>.archive   HostInfoForBkp
 *   received/               indexed wdiffs not yet linked to every archive; tmpXXXXXX
 *   sendto/<archiveName>/   hard links of the wdiffs still to send to that archive
 * ```
 *
 * Every metadata file is one serialized value written atomically, byte-identical to the
 * original's, so either implementation can take over a base directory.
 *
 * @module
 */
import { hasWdiffSuffix, type MetaDiff, parseDiffFileName } from "../../format/meta/mod.ts";
import { deserialize, serialize, VU64 } from "../../format/serializer/mod.ts";
import type { ServerFs } from "../runtime/fs.ts";
import { DenoServerFs, TEMP_NAME_PATTERN } from "../runtime/fs.ts";
import { VolumeDirStore } from "../runtime/volume_store.ts";
import { type HostInfoForBkp, readHostInfo, writeHostInfo } from "./host_info.ts";

/** The file operations a proxy needs: the server's plus hard links. */
export interface ProxyFs extends ServerFs {
  /** Creates `to` as a hard link of `from`. */
  link(from: string, to: string): Promise<void>;
}

/** The real file system. */
export class DenoProxyFs extends DenoServerFs implements ProxyFs {
  async link(from: string, to: string): Promise<void> {
    await Deno.link(from, to);
  }
}

/** Suffix of the archive-info files. */
export const ARCHIVE_FILE_SUFFIX = ".archive";

/**
 * Archive names become file and directory names: 1–255 bytes, no `/`, no NUL, not `.`/`..`.
 */
export function isValidArchiveName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\0]/.test(name) && name !== "." &&
    name !== "..";
}

/** Diffs found by a directory scan. */
export interface ScannedDiffs {
  diffs: MetaDiff[];
  /** `.wdiff` names that do not parse (left alone). */
  badNames: string[];
}

/** The volume directories of one base directory. */
export class ProxyStore extends VolumeDirStore<ProxyFs> {
  receivedDir(volId: string): string {
    return `${this.volumeDir(volId)}/received`;
  }

  sendtoDir(volId: string, archiveName?: string): string {
    const dir = `${this.volumeDir(volId)}/sendto`;
    return archiveName === undefined ? dir : `${dir}/${archiveName}`;
  }

  archiveFile(volId: string, archiveName: string): string {
    return `${this.volumeDir(volId)}/${archiveName}${ARCHIVE_FILE_SUFFIX}`;
  }

  /** Creates the volume directory with `size` 0, `received/` and `sendto/`. */
  async createVolume(volId: string): Promise<void> {
    await this.fs.mkdir(this.volumeDir(volId));
    await this.fs.mkdir(this.receivedDir(volId));
    await this.fs.mkdir(this.sendtoDir(volId));
    await this.writeSize(volId, 0n);
    await this.fs.syncDir(this.baseDir);
  }

  /** Removes the volume directory recursively. */
  async removeVolume(volId: string): Promise<void> {
    await this.fs.remove(this.volumeDir(volId), { recursive: true });
    await this.fs.syncDir(this.baseDir);
  }

  async writeSize(volId: string, sizeLb: bigint): Promise<void> {
    await this.fs.writeFileAtomic(
      `${this.volumeDir(volId)}/size`,
      serialize((w) => w.varInt(sizeLb, VU64)),
    );
  }

  /** @throws {CorruptDataError} on bad bytes */
  async readSize(volId: string): Promise<bigint> {
    const bytes = await this.fs.readFile(`${this.volumeDir(volId)}/size`);
    return deserialize(bytes, (r) => r.varInt(VU64, "size"));
  }

  async writeArchiveInfo(volId: string, name: string, info: HostInfoForBkp): Promise<void> {
    await this.fs.writeFileAtomic(
      this.archiveFile(volId, name),
      serialize((w) => writeHostInfo(w, info)),
    );
  }

  /** @throws {CorruptDataError} on bad bytes */
  async readArchiveInfo(volId: string, name: string): Promise<HostInfoForBkp> {
    return deserialize(await this.fs.readFile(this.archiveFile(volId, name)), readHostInfo);
  }

  /** Names of the `*.archive` files (without the suffix). */
  async listArchives(volId: string): Promise<string[]> {
    const entries = await this.fs.readDir(this.volumeDir(volId));
    return entries.filter((e) => e.isFile && e.name.endsWith(ARCHIVE_FILE_SUFFIX))
      .map((e) => e.name.slice(0, -ARCHIVE_FILE_SUFFIX.length))
      .filter(isValidArchiveName).sort();
  }

  /** Creates `sendto/<name>/` if it is missing. */
  async ensureSendtoDir(volId: string, name: string): Promise<void> {
    const dir = this.sendtoDir(volId, name);
    if (await this.fs.exists(dir)) return;
    if (!(await this.fs.exists(this.sendtoDir(volId)))) await this.fs.mkdir(this.sendtoDir(volId));
    await this.fs.mkdir(dir);
  }

  /** Removes an archive's info file and its pending wdiffs. */
  async removeArchive(volId: string, name: string): Promise<void> {
    const dir = this.sendtoDir(volId, name);
    if (await this.fs.exists(dir)) await this.fs.remove(dir, { recursive: true });
    const file = this.archiveFile(volId, name);
    if (await this.fs.exists(file)) await this.fs.remove(file);
    await this.fs.syncDir(this.volumeDir(volId));
  }

  /** The wdiff files of a directory (dataSize = file size); a missing directory is empty. */
  async scanDiffs(dir: string): Promise<ScannedDiffs> {
    const diffs: MetaDiff[] = [];
    const badNames: string[] = [];
    if (!(await this.fs.exists(dir))) return { diffs, badNames };
    for (const entry of await this.fs.readDir(dir)) {
      if (!entry.isFile || !hasWdiffSuffix(entry.name)) continue;
      let diff: MetaDiff;
      try {
        diff = parseDiffFileName(entry.name);
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        badNames.push(entry.name);
        continue;
      }
      diffs.push({ ...diff, dataSize: await this.fs.fileSize(`${dir}/${entry.name}`) });
    }
    return { diffs, badNames };
  }

  /** `tmpXXXXXX` temporaries of a directory. */
  async tempFiles(dir: string): Promise<string[]> {
    if (!(await this.fs.exists(dir))) return [];
    const entries = await this.fs.readDir(dir);
    return entries.filter((e) => e.isFile && TEMP_NAME_PATTERN.test(e.name)).map((e) => e.name);
  }
}
