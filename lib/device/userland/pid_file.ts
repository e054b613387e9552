/**
 * The pid file `<run dir>/NAME.pid`, which claims a device name. PIDs wrap within minutes
 * here (pid_max 32768, and each Deno process takes ~15 thread ids), so a pid read from a file
 * may name an unrelated process. The daemon therefore holds an exclusive `flock` on its pid
 * file while it runs: the kernel drops the lock when the process dies, so "the lock is held"
 * means "the daemon is alive", whatever the pid. Before signalling a pid, a caller also
 * checks `/proc/PID/cmdline` names the daemon of that device.
 *
 * @module
 */
import { WalbDeviceError } from "../wdev_error.ts";
import { USERLAND_LIMITS } from "./limits.ts";
import type { UserlandPaths } from "./paths.ts";

/** A pid file this process holds locked; {@link release} removes it and drops the lock. */
export class PidFileLock {
  #file: Deno.FsFile | undefined;
  constructor(readonly path: string, file: Deno.FsFile) {
    this.#file = file;
  }

  /** Removes the pid file, then drops the lock. Idempotent. */
  async release(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    try {
      await Deno.remove(this.path).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    } finally {
      file.close();
    }
  }
}

/**
 * Claims `paths.name`: creates or reuses the pid file, takes its exclusive lock without
 * waiting, and writes this process's pid. A stale file (its daemon died) is taken over.
 *
 * @throws {WalbDeviceError} EEXIST when a live daemon holds the name
 */
export async function claimPidFile(paths: UserlandPaths): Promise<PidFileLock> {
  for (let attempt = 0; attempt < USERLAND_LIMITS.pidFileClaimAttemptsMax; attempt++) {
    const file = await Deno.open(paths.pidPath, { read: true, write: true, create: true });
    let keep = false;
    try {
      if (await file.tryLock(true)) {
        // The file may have been removed (by its releasing owner) between our open and lock:
        // then a newer file may exist under the name; lock that one instead.
        if (await sameFile(file, paths.pidPath)) {
          await file.truncate(0);
          await writeAllTo(file, new TextEncoder().encode(`${Deno.pid}\n`));
          keep = true;
          return new PidFileLock(paths.pidPath, file);
        }
        continue;
      }
    } finally {
      if (!keep) file.close();
    }
    // Held: a live daemon, or a prober holding a shared lock for a moment.
    await new Promise((resolve) => setTimeout(resolve, USERLAND_LIMITS.pidFileClaimRetryMs));
  }
  throw new WalbDeviceError(
    `create device ${paths.name}`,
    "EEXIST",
    `a device named ${paths.name} already runs in ${paths.runDir}`,
  );
}

/**
 * The pid in `pidPath` when a live process holds its lock; undefined when there is no file,
 * or its daemon is gone (the lock is free), whatever pid the file names.
 */
export async function livePid(pidPath: string): Promise<number | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(pidPath, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    if (await file.tryLock(false)) return undefined;
    const text = new TextDecoder().decode(await readAllFrom(file)).trim();
    const pid = Number(text);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } finally {
    file.close();
  }
}

/**
 * True when process `pid` is the daemon of device `name` (`walb wdevc run-daemon … -n NAME`),
 * read from `/proc/PID/cmdline`; false when it is gone or another program.
 */
export async function isDaemonProcess(pid: number, name: string): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`/proc/${pid}/cmdline`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  const args = new TextDecoder().decode(bytes).split("\0");
  const at = args.indexOf("run-daemon");
  if (at < 1 || args[at - 1] !== "wdevc") return false;
  const flag = args.indexOf("-n", at);
  return flag > 0 && args[flag + 1] === name;
}

async function sameFile(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [held, named] = [await file.stat(), await Deno.stat(path)];
    return held.ino === named.ino && held.dev === named.dev;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function writeAllTo(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

async function readAllFrom(file: Deno.FsFile): Promise<Uint8Array> {
  const buffer = new Uint8Array(64);
  let size = 0;
  for (;;) {
    const count = await file.read(buffer.subarray(size));
    if (count === null || count === 0) break;
    size += count;
    if (size === buffer.length) break; // a pid is short: a longer file is not ours
  }
  return buffer.subarray(0, size);
}
