/**
 * The part every role's store shares: one directory per volume under the base directory
 * (wdiff-and-archive.md §13.1, §14, §15).
 *
 * @module
 */
import { VOLUME_ID_PATTERN } from "./format.ts";
import type { ServerFs } from "./fs.ts";

/** Volume directories of one base directory; each role's store extends it with its files. */
export class VolumeDirStore<F extends ServerFs = ServerFs> {
  /**
   * @param fs the file system the store works through
   * @param baseDir the server's base directory (`-b`)
   */
  constructor(readonly fs: F, readonly baseDir: string) {}

  /** Directory of a volume. */
  volumeDir(volId: string): string {
    return `${this.baseDir}/${volId}`;
  }

  /** A file in a volume's directory. */
  filePath(volId: string, name: string): string {
    return `${this.volumeDir(volId)}/${name}`;
  }

  /** True if the volume's directory exists. */
  async exists(volId: string): Promise<boolean> {
    return await this.fs.exists(this.volumeDir(volId));
  }

  /** Names of subdirectories that are valid volume ids (directory order). */
  async listVolumes(): Promise<string[]> {
    const entries = await this.fs.readDir(this.baseDir);
    return entries.filter((e) => e.isDirectory && VOLUME_ID_PATTERN.test(e.name)).map((e) =>
      e.name
    );
  }
}
