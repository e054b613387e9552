/**
 * The small file-system interface servers use for their metadata (base directory, volume
 * directories, wdiff files), with atomic metadata writes (wdiff-and-archive.md §12): write
 * `tmpXXXXXX` in the same directory, fsync, rename over the target, chmod 0644, fsync the
 * directory.
 *
 * @module
 */

/** An entry of {@link ServerFs.readDir}. */
export interface ServerDirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/** File-system operations of a server (paths are absolute or relative to the process). */
export interface ServerFs {
  readFile(path: string): Promise<Uint8Array>;
  /** Replaces `path` atomically and durably with `data`. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /** Creates a new temporary file `tmpXXXXXX` in `dir`; returns its path. */
  makeTempFile(dir: string): Promise<string>;
  /** Opens a file for writing (truncating it). */
  openWrite(path: string): Promise<Deno.FsFile>;
  exists(path: string): Promise<boolean>;
  /** Size in bytes (throws NotFound). */
  fileSize(path: string): Promise<number>;
  mkdir(path: string): Promise<void>;
  readDir(path: string): Promise<ServerDirEntry[]>;
  rename(from: string, to: string): Promise<void>;
  /**
   * Gives a finished temporary file (from {@link makeTempFile}, mode 0600) mode 0644 and renames
   * it to `path`, as metadata files are published: wdiff files get the same mode.
   */
  commitTempFile(tempPath: string, path: string): Promise<void>;
  /** Removes a file, or a directory recursively with `recursive`. */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** fsyncs a directory (after renames and creations inside it). */
  syncDir(path: string): Promise<void>;
}

/** Name of a temporary file as the original makes them: `tmp` + 6 characters. */
export const TEMP_NAME_PATTERN = /^tmp[0-9A-Za-z]{6}$/;

const TEMP_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function dirName(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  return index === 0 ? "/" : path.slice(0, index);
}

/**
 * The real file system through `Deno.*`. Temporary names use the OS random source (only for
 * uniqueness; no behaviour depends on the value).
 */
export class DenoServerFs implements ServerFs {
  async readFile(path: string): Promise<Uint8Array> {
    return await Deno.readFile(path);
  }

  async makeTempFile(dir: string): Promise<string> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const random = crypto.getRandomValues(new Uint8Array(6));
      const name = "tmp" + [...random].map((b) => TEMP_ALPHABET[b % TEMP_ALPHABET.length]).join("");
      const path = joinPath(dir, name);
      try {
        const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
        file.close();
        return path;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
    throw new Error(`Cannot create a temporary file in ${dir}: every name was taken`);
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const dir = dirName(path);
    const temp = await this.makeTempFile(dir);
    try {
      const file = await Deno.open(temp, { write: true, truncate: true });
      try {
        let offset = 0;
        while (offset < data.length) offset += await file.write(data.subarray(offset));
        await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    await Deno.chmod(path, 0o644);
    await this.syncDir(dir);
  }

  async commitTempFile(tempPath: string, path: string): Promise<void> {
    await Deno.chmod(tempPath, 0o644);
    await Deno.rename(tempPath, path);
  }

  async openWrite(path: string): Promise<Deno.FsFile> {
    return await Deno.open(path, { write: true, create: true, truncate: true });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await Deno.lstat(path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  async fileSize(path: string): Promise<number> {
    return (await Deno.stat(path)).size;
  }

  async mkdir(path: string): Promise<void> {
    await Deno.mkdir(path);
  }

  async readDir(path: string): Promise<ServerDirEntry[]> {
    const out: ServerDirEntry[] = [];
    for await (const entry of Deno.readDir(path)) {
      out.push({ name: entry.name, isFile: entry.isFile, isDirectory: entry.isDirectory });
    }
    return out;
  }

  async rename(from: string, to: string): Promise<void> {
    await Deno.rename(from, to);
  }

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await Deno.remove(path, { recursive: options.recursive ?? false });
  }

  async syncDir(path: string): Promise<void> {
    const dir = await Deno.open(path, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }
}
