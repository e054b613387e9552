/**
 * Names and paths of userland WalB devices, fixed so that every tool agrees: device NAME
 * lives in a run directory (default `/run/walb`, or `WALB_RUN_DIR`), its control socket
 * `<run dir>/NAME` is its WDEV path (as `/dev/walb/NAME` is for a kernel device), its NBD
 * socket is `<run dir>/NAME.nbd`, its pid file `<run dir>/NAME.pid` and its log
 * `<run dir>/NAME.log`.
 *
 * @module
 */
import { WalbDeviceError } from "../wdev_error.ts";
import { USERLAND_LIMITS } from "./limits.ts";

/** The run directory when `WALB_RUN_DIR` is not set. */
export const DEFAULT_RUN_DIR = "/run/walb";

/** Every path of one userland device. */
export interface UserlandPaths {
  runDir: string;
  name: string;
  /** The control socket: the device's WDEV path. */
  controlPath: string;
  /** The NBD unix socket. */
  nbdPath: string;
  /** `nbd+unix:///?socket=<nbdPath>`. */
  nbdUri: string;
  /** Holds the daemon's pid while it runs. */
  pidPath: string;
  /** The daemon's log. */
  logPath: string;
}

/**
 * The run directory: `WALB_RUN_DIR` when set and non-empty, else {@link DEFAULT_RUN_DIR}.
 *
 * @param env the environment to read (default the process's)
 */
export function defaultRunDir(env: { get(key: string): string | undefined } = Deno.env): string {
  const value = env.get("WALB_RUN_DIR");
  return value === undefined || value === "" ? DEFAULT_RUN_DIR : value;
}

/**
 * Checks a userland device name: 1–25 characters, no `/`, no NUL, not starting with `.`,
 * and not ending with a suffix the run directory uses (`.nbd`, `.pid`, `.log`).
 *
 * @throws {WalbDeviceError} EINVAL naming the problem
 */
export function checkUserlandName(name: string): void {
  const fail = (detail: string): never => {
    throw new WalbDeviceError(`use device name "${name}"`, "EINVAL", detail);
  };
  if (name.length === 0) fail("the name is empty");
  if (name.length > USERLAND_LIMITS.nameLengthMax) {
    fail(`the name is longer than ${USERLAND_LIMITS.nameLengthMax} characters`);
  }
  if (/[\/\0\s]/.test(name)) fail("the name contains '/', a NUL or white space");
  if (name.startsWith(".")) fail("the name starts with '.'");
  if (/\.(nbd|pid|log)$/.test(name)) fail("the name ends with .nbd, .pid or .log");
}

/**
 * The paths of device `name` in `runDir`.
 *
 * @example
 * ```ts
 * import { userlandPaths } from "./paths.ts";
 * const paths = userlandPaths("/run/walb", "vol0");
 * if (paths.nbdUri !== "nbd+unix:///?socket=/run/walb/vol0.nbd") throw new Error(paths.nbdUri);
 * ```
 */
export function userlandPaths(runDir: string, name: string): UserlandPaths {
  const dir = runDir.replace(/\/+$/, "");
  const base = `${dir}/${name}`;
  return {
    runDir,
    name,
    controlPath: base,
    nbdPath: `${base}.nbd`,
    nbdUri: `nbd+unix:///?socket=${base}.nbd`,
    pidPath: `${base}.pid`,
    logPath: `${base}.log`,
  };
}

/** Splits a control-socket path into its run directory and device name. */
export function splitControlPath(path: string): { runDir: string; name: string } {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return { runDir: ".", name: path };
  return { runDir: slash === 0 ? "/" : path.slice(0, slash), name: path.slice(slash + 1) };
}

/**
 * The names of the devices whose control socket exists in `runDir`, sorted (the sockets may
 * be stale: a caller asks each one).
 */
export async function userlandNames(runDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(runDir)) {
      if (/\.(nbd|pid|log)$/.test(entry.name) || entry.isDirectory) continue;
      const stat = await Deno.lstat(`${runDir}/${entry.name}`).catch(() => undefined);
      if (stat?.isSocket === true) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names.sort();
}

/**
 * The first name `wdev<K>` (K = 0, 1, ...) with none of its files in `runDir`.
 */
export async function freeUserlandName(runDir: string): Promise<string> {
  const used = new Set<string>();
  try {
    for await (const entry of Deno.readDir(runDir)) used.add(entry.name.replace(/\.\w+$/, ""));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (let k = 0;; k++) {
    if (!used.has(`wdev${k}`)) return `wdev${k}`;
  }
}
