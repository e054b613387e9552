/**
 * Helpers of the userland WalB device tests: run `walb` subcommands in a subprocess (with a
 * private run directory), start and stop devices, kill daemons, and check for binaries.
 * Every test uses {@link withDeviceDir}, which kills the daemons it started and removes its
 * files in `finally`.
 */
import { assert } from "../../lib/testing/assert.ts";
import { parseLsids } from "../../lib/device/kernel/sysfs.ts";
import type { LsidSet } from "../../lib/device/kernel/sysfs.ts";
import { isDaemonProcess, livePid } from "../../lib/device/userland/pid_file.ts";

export const MiB = 1024 * 1024;
const MAIN = new URL("../../cmd/main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
/** Time one subprocess may take [ms]. */
export const COMMAND_TIMEOUT_MS = 120_000;

/** True when `binary` is on PATH; prints a skip message otherwise. */
export function have(binary: string): boolean {
  const found = new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
    .outputSync().success;
  if (!found) console.log(`skip: ${binary} is not installed (apt-get install its package)`);
  return found;
}

/** A finished subprocess. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program under a timeout; throws unless it exits 0 (unless allowed). */
export async function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; allowFailure?: boolean; timeoutMs?: number } = {},
): Promise<Output> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? COMMAND_TIMEOUT_MS);
  try {
    const output = await new Deno.Command(cmd, {
      args,
      env: options.env ?? {},
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const result = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    if (controller.signal.aborted) throw new Error(`${cmd} ${args.join(" ")} timed out`);
    if (output.code !== 0 && options.allowFailure !== true) {
      throw new Error(`${cmd} ${args.join(" ")} exited ${output.code}: ${result.stderr}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** A test's directory: devices' files under `dir`, the run directory at `runDir`. */
export class DeviceDir {
  readonly runDir: string;
  constructor(readonly dir: string) {
    this.runDir = `${dir}/run`;
  }

  /** Runs `walb args…` with this run directory. */
  walb(args: string[], options: { allowFailure?: boolean } = {}): Promise<Output> {
    return run(Deno.execPath(), ["run", "--allow-all", "--config", CONFIG, MAIN, ...args], {
      env: { WALB_RUN_DIR: this.runDir, DENO_NO_PACKAGE_JSON: "1" },
      ...options,
    });
  }

  /** Runs `walb wdevc args…`. */
  wdevc(args: string[], options: { allowFailure?: boolean } = {}): Promise<Output> {
    return this.walb(["wdevc", ...args], options);
  }

  /** Creates sparse ldev and ddev files of the given sizes; returns their paths. */
  async makeFiles(name: string, ldevBytes: number, ddevBytes: number) {
    const ldev = `${this.dir}/${name}.ldev`;
    const ddev = `${this.dir}/${name}.ddev`;
    await Deno.writeFile(ldev, new Uint8Array(0));
    await Deno.truncate(ldev, ldevBytes);
    await Deno.writeFile(ddev, new Uint8Array(0));
    await Deno.truncate(ddev, ddevBytes);
    return { ldev, ddev };
  }

  /** format-ldev (userland) and create-wdev; returns the device's paths. */
  async createDevice(name: string, ldev: string, ddev: string, extra: string[] = []) {
    await this.wdevc(["format-ldev", ldev, ddev, "-n", name, "--backend", "user"]);
    return await this.startDevice(ldev, ddev, extra);
  }

  /** create-wdev on an already formatted ldev; checks the three output lines. */
  async startDevice(ldev: string, ddev: string, extra: string[] = []) {
    const out = await this.wdevc(["create-wdev", ldev, ddev, "--backend", "user", ...extra]);
    const lines = out.stdout.trim().split("\n");
    assert(lines.length === 3, `create-wdev printed ${out.stdout}`);
    const name = lines[0]!.replace(/^name /, "");
    const wdev = lines[1]!.replace(/^path /, "");
    const nbdUri = lines[2]!.replace(/^nbd /, "");
    assert(wdev === `${this.runDir}/${name}`, `path line ${lines[1]}`);
    assert(nbdUri === `nbd+unix:///?socket=${this.runDir}/${name}.nbd`, `nbd line ${lines[2]}`);
    return { name, wdev, nbdUri, nbdPath: `${this.runDir}/${name}.nbd` };
  }

  /** The lsids of a device through `wdevc get-lsids`. */
  async lsids(wdev: string): Promise<LsidSet> {
    return parseLsids((await this.wdevc(["get-lsids", wdev])).stdout);
  }

  /** The pid of device `name`'s daemon (it holds its pid file's lock). */
  async daemonPid(name: string): Promise<number> {
    const pid = await livePid(`${this.runDir}/${name}.pid`);
    assert(pid !== undefined, `device ${name} has no live daemon`);
    return pid;
  }

  /** SIGKILLs device `name`'s daemon and waits until it is gone. */
  async killDaemon(name: string): Promise<void> {
    assert(await this.#kill(name), `device ${name} has no live daemon`);
  }

  /** Kills every daemon with a pid file here (cleanup). */
  async killAll(): Promise<void> {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.runDir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.endsWith(".pid")) await this.#kill(entry.name.slice(0, -".pid".length));
    }
  }

  /**
   * SIGKILLs device `name`'s daemon: only a process that holds the pid file's lock and whose
   * cmdline is that daemon's (pids wrap within minutes here), then waits for the lock to go.
   *
   * @returns false when no live daemon holds the name
   */
  async #kill(name: string): Promise<boolean> {
    const pidPath = `${this.runDir}/${name}.pid`;
    const pid = await livePid(pidPath);
    if (pid === undefined || !(await isDaemonProcess(pid, name))) return false;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    for (let i = 0; i < 500 && await livePid(pidPath) === pid; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert(await livePid(pidPath) !== pid, `process ${pid} did not die`);
    return true;
  }
}

/** Runs `body` with a fresh {@link DeviceDir}; kills its daemons and removes it afterwards. */
export async function withDeviceDir(body: (dir: DeviceDir) => Promise<void>): Promise<void> {
  const dir = new DeviceDir(await Deno.makeTempDir({ dir: "/tmp", prefix: "walbdev" }));
  try {
    await body(dir);
  } finally {
    await dir.killAll();
    await Deno.remove(dir.dir, { recursive: true });
  }
}
