/**
 * A real L-main backup group on loopback for the acceptance tests (scenarios.md §1.1, §2):
 * storages s0 s1, proxies p0 p1 and archives a0 a1 as `walb storage|proxy|archive`
 * processes on free ports, userland WalB devices made with `walb wdevc format-ldev` and
 * `create-wdev` (one daemon each, WALB_RUN_DIR in the group's temp dir), archives with
 * `-discard zero` and the file backend, and a {@link Controller} over the layout.
 *
 * Capabilities for the cases: W (random writes and TRIMs through a device's NBD export), S
 * (device sha1 after a flush), H-verify_restore (restore through the controller, sha1 of the
 * restored image, del_restored), kill -9 and restart of any server.
 *
 * {@link Group.close} always kills every process and daemon it started (by pid), bounded in
 * time, then removes the temp dir (kept with WALB_KEEP_TMP=1).
 *
 * @module
 */
import { realClock } from "../../lib/clock.ts";
import {
  Controller,
  delRestored,
  fullBackup,
  initStorage,
  restore,
  ServerConnectionParam,
  ServerLayout,
  type ServerParams,
} from "../../lib/controller/mod.ts";
import { DenoNet } from "../../lib/net.ts";
import { assertEquals } from "../../lib/testing/assert.ts";
import { deviceSha1, fileSha1 } from "../../lib/testing/harness.ts";
import { NbdTestClient } from "../../lib/testing/nbd_client.ts";
import type { Prng } from "../../lib/testing/random.ts";

export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const MAIN = `${REPO}/cmd/main.ts`;
export const MiB = 1024 * 1024;
/** The volume name of the scenarios. */
export const VOL = "vol0";
/** Device size of the scenarios (`wdevSizeMb`). */
export const DDEV_BYTES = 12 * MiB;
const LDEV_BYTES = 16 * MiB;
/** Time allowed for a process to start serving, or to end after a kill. */
const PROCESS_WAIT_MS = 30_000;
/** Time allowed for every blocking controller call (the original's TIMEOUT is 100 s). */
export const CASE_TIMEOUT_MS = 60_000;

/** Server names of L-main in start order (archives first, as H-startup_list). */
export const SERVER_NAMES = ["a0", "a1", "p0", "p1", "s0", "s1"] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** One server process of the group. */
export interface ServerProcess {
  readonly name: ServerName;
  readonly kind: "storage" | "proxy" | "archive";
  readonly port: number;
  readonly dataDir: string;
  /** The server's `-l` log file. */
  readonly logPath: string;
  /** Where stdout and stderr go. */
  readonly outPath: string;
  child: Deno.ChildProcess | undefined;
}

/** One userland WalB device of the group. */
export interface GroupDevice {
  readonly name: string;
  /** The WDEV path storages get in init-vol (the control socket). */
  readonly path: string;
  readonly nbd: { unixPath: string };
  readonly ldevPath: string;
  readonly ddevPath: string;
}

/** Options of {@link startGroup}. */
export interface GroupOptions {
  /** Devices wdev0.. (default 2: wdev0 ↔ s0, wdev1 ↔ s1). */
  deviceCount?: number;
  /** Data device size (default 12 MiB). */
  ddevBytes?: number;
  /** Extra storage options (default fast retries and 1 s implicit snapshots). */
  storageArgs?: string[];
  /** Extra proxy options. */
  proxyArgs?: string[];
  /** Extra archive options. */
  archiveArgs?: string[];
  /** Which servers to start (default all of L-main). */
  servers?: readonly ServerName[];
}

/** Finds a free loopback TCP port (bind to 0, read, close). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `promise`, or with undefined after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `walb ARGS` to completion with the group's env; returns stdout, throws on failure. */
export async function runWalb(
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", "--no-prompt", MAIN, ...args],
    cwd: REPO,
    env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `walb ${args.join(" ")} failed (${output.code}): ${decoder.decode(output.stderr)}`,
    );
  }
  return decoder.decode(output.stdout);
}

/** A running L-main group. */
export class Group {
  readonly root: string;
  readonly runDir: string;
  readonly servers = new Map<ServerName, ServerProcess>();
  readonly devices: GroupDevice[] = [];
  readonly ctl: Controller;
  readonly layout: ServerLayout;
  readonly #options: GroupOptions;
  #closed = false;

  constructor(root: string, options: GroupOptions) {
    this.root = root;
    this.runDir = `${root}/run`;
    this.#options = options;
    const ports = new Set<number>();
    const kinds = { s: "storage", p: "proxy", a: "archive" } as const;
    for (const name of SERVER_NAMES) {
      let port = freePort();
      while (ports.has(port)) port = freePort();
      ports.add(port);
      const dataDir = `${root}/${name}`;
      this.servers.set(name, {
        name,
        kind: kinds[name[0] as "s" | "p" | "a"],
        port,
        dataDir,
        logPath: `${dataDir}/${name}.log`,
        outPath: `${root}/${name}.out`,
        child: undefined,
      });
    }
    const param = (name: ServerName) => {
      const server = this.server(name);
      return new ServerConnectionParam(name, "127.0.0.1", server.port, server.kind);
    };
    this.layout = new ServerLayout(
      [param("s0"), param("s1")],
      [param("p0"), param("p1")],
      [param("a0"), param("a1")],
    );
    this.ctl = new Controller(this.layout, {
      net: new DenoNet({ clock: realClock }),
      clock: realClock,
      timeoutMs: 20_000,
      pollIntervalMs: 100,
    });
  }

  /** The environment of every `walb` process (the run dir of userland devices). */
  get env(): Record<string, string> {
    return { WALB_RUN_DIR: this.runDir };
  }

  server(name: ServerName): ServerProcess {
    const server = this.servers.get(name);
    if (server === undefined) throw new Error(`no server ${name}`);
    return server;
  }

  /** The controller's parameters of `name`. */
  param(name: ServerName): ServerParams {
    const found = this.layout.getAll().find((server) => server.name === name);
    if (found === undefined) throw new Error(`no server ${name}`);
    return found;
  }

  get s0(): ServerParams {
    return this.param("s0");
  }
  get s1(): ServerParams {
    return this.param("s1");
  }
  get p0(): ServerParams {
    return this.param("p0");
  }
  get p1(): ServerParams {
    return this.param("p1");
  }
  get a0(): ServerParams {
    return this.param("a0");
  }
  get a1(): ServerParams {
    return this.param("a1");
  }

  /** The command line of a server (H-startup: L-main, `-discard zero` for archives). */
  serverArgs(name: ServerName): string[] {
    const server = this.server(name);
    const common = [
      "-p",
      String(server.port),
      "-b",
      server.dataDir,
      "-l",
      server.logPath,
      "-id",
      name,
      "-to",
      "5",
    ];
    const hostPort = (other: ServerName) => `127.0.0.1:${this.server(other).port}`;
    switch (server.kind) {
      case "storage":
        return [
          "storage",
          ...common,
          "-archive",
          hostPort("a0"),
          "-proxy",
          `${hostPort("p0")},${hostPort("p1")}`,
          "-allow-exec",
          ...(this.#options.storageArgs ?? ["-snapintvl", "1", "-delay", "1", "-maxdelay", "2"]),
        ];
      case "proxy":
        return [
          "proxy",
          ...common,
          "-allow-exec",
          ...(this.#options.proxyArgs ?? ["-delay", "1", "-maxdelay", "2"]),
        ];
      default:
        return ["archive", ...common, "-discard", "zero", ...(this.#options.archiveArgs ?? [])];
    }
  }

  /** Starts a server process (not waiting until it serves). */
  async spawn(name: ServerName): Promise<void> {
    const server = this.server(name);
    if (server.child !== undefined) throw new Error(`${name} is running`);
    await Deno.mkdir(server.dataDir, { recursive: true });
    const quoted = [Deno.execPath(), "run", "--allow-all", "--quiet", "--no-prompt", MAIN]
      .concat(this.serverArgs(name)).map((word) => `'${word}'`).join(" ");
    server.child = new Deno.Command("sh", {
      args: ["-c", `exec ${quoted} >>'${server.outPath}' 2>&1`],
      cwd: REPO,
      env: { DENO_NO_PACKAGE_JSON: "1", NO_COLOR: "1", ...this.env },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }

  /** Waits until `get host-type` answers (H-startup). */
  async waitServing(name: ServerName): Promise<void> {
    const server = this.server(name);
    const deadline = Date.now() + PROCESS_WAIT_MS;
    for (;;) {
      try {
        assertEquals(await this.ctl.getHostType(this.param(name)), server.kind);
        return;
      } catch (error) {
        if (server.child !== undefined) {
          const status = await within(server.child.status, 0);
          if (status !== undefined) {
            server.child = undefined;
            throw new Error(`${name} exited (${status.code}): ${await this.tail(server.outPath)}`);
          }
        }
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }

  /** Starts a server and waits until it serves. */
  async start(name: ServerName): Promise<void> {
    await this.spawn(name);
    await this.waitServing(name);
  }

  /** kill -9 of a server; resolves when the process is gone. */
  async kill(name: ServerName): Promise<void> {
    const server = this.server(name);
    const child = server.child;
    if (child === undefined) return;
    server.child = undefined;
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
    if ((await within(child.status, PROCESS_WAIT_MS)) === undefined) {
      throw new Error(`${name} did not die after SIGKILL`);
    }
  }

  /** True while the server's process runs. */
  isRunning(name: ServerName): boolean {
    return this.server(name).child !== undefined;
  }

  /** The last lines of a file (for error messages). */
  async tail(path: string, lineCount = 20): Promise<string> {
    const text = await Deno.readTextFile(path).catch(() => "");
    return text.split("\n").slice(-lineCount).join("\n");
  }

  /** The server's log text. */
  async log(name: ServerName): Promise<string> {
    return await Deno.readTextFile(this.server(name).logPath).catch(() => "");
  }

  /** `wdevc format-ldev` and `create-wdev --backend user` for wdev`index`. */
  async createDevice(index: number, ddevBytes: number): Promise<GroupDevice> {
    const name = `wdev${index}`;
    const ldevPath = `${this.root}/ldev${index}`;
    const ddevPath = `${this.root}/ddev${index}`;
    for (const [path, size] of [[ldevPath, LDEV_BYTES], [ddevPath, ddevBytes]] as const) {
      await Deno.writeFile(path, new Uint8Array(0));
      await Deno.truncate(path, size);
    }
    await runWalb(["wdevc", "format-ldev", ldevPath, ddevPath, "-n", name, "--backend", "user"], {
      ...this.env,
    });
    const out = await runWalb(
      ["wdevc", "create-wdev", ldevPath, ddevPath, "-n", name, "--backend", "user"],
      this.env,
    );
    const path = /^path (.*)$/m.exec(out)?.[1];
    if (path === undefined) throw new Error(`create-wdev printed no path: ${out}`);
    const device = { name, path, nbd: { unixPath: `${path}.nbd` }, ldevPath, ddevPath };
    this.devices.push(device);
    return device;
  }

  device(index: number): GroupDevice {
    const device = this.devices[index];
    if (device === undefined) throw new Error(`no device ${index}`);
    return device;
  }

  /** S: the device's sha1 after a flush (H-sha1). */
  async sha1(index = 0): Promise<string> {
    return await deviceSha1(this.device(index).nbd);
  }

  /**
   * W: `ioCount` random writes (4–64 KiB at 4 KiB-aligned offsets), about one in
   * `1 / trimChance` a TRIM instead, then a flush.
   */
  async write(
    index: number,
    prng: Prng,
    ioCount: number,
    options: { trimChance?: number } = {},
  ): Promise<void> {
    const client = await NbdTestClient.connect(this.device(index).nbd);
    try {
      for (let i = 0; i < ioCount; i++) {
        const lengthBytes = 4096 * prng.range(1, 16);
        const offsetBytes = 4096 * prng.int((client.sizeBytes - lengthBytes) / 4096);
        if (prng.chance(options.trimChance ?? 0.1)) {
          await client.trim(offsetBytes, lengthBytes);
        } else {
          await client.write(offsetBytes, prng.bytes(lengthBytes));
        }
      }
      await client.flush();
    } finally {
      await client.disconnect();
    }
  }

  /** H-sha1_restorable: restore, sha1 of the restored image, del_restored. */
  async restoredSha1(ax: ServerParams, gid: bigint, vol = VOL): Promise<string> {
    await restore(this.ctl, ax, vol, gid, CASE_TIMEOUT_MS);
    const path = await this.ctl.getRestoredPath(ax, vol, gid);
    const sha1 = await fileSha1(path);
    await delRestored(this.ctl, ax, vol, gid);
    return sha1;
  }

  /** H-verify_restore: the restored image of `gid` equals `sha1`. */
  async verifyRestore(ax: ServerParams, gid: bigint, sha1: string, vol = VOL): Promise<void> {
    assertEquals(await this.restoredSha1(ax, gid, vol), sha1, `restored image of gid ${gid}`);
  }

  /**
   * AC-01's state: s0 and s1 initialised (Standby), a write on wdev0, full backup from s0
   * to a0. Returns the first clean gid and the device sha1 it must restore to.
   */
  async backedUp(prng: Prng): Promise<{ gid: bigint; sha1: string }> {
    await initStorage(this.ctl, this.s0, VOL, this.device(0).path);
    await initStorage(this.ctl, this.s1, VOL, this.device(1).path);
    await this.write(0, prng, 20);
    const sha1 = await this.sha1(0);
    const gid = await fullBackup(this.ctl, this.s0, VOL, { timeoutMs: CASE_TIMEOUT_MS });
    if (gid === undefined) throw new Error("full backup returned no gid");
    return { gid, sha1 };
  }

  /** Kills every process and daemon (bounded), then removes the temp dir. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.servers.keys()].map((name) => this.kill(name).catch(() => {})));
    for (const device of this.devices) {
      const pidText = await Deno.readTextFile(`${device.path}.pid`).catch(() => "");
      const pid = Number(pidText.trim());
      if (!Number.isInteger(pid) || pid <= 0) continue;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    if (Deno.env.get("WALB_KEEP_TMP") === "1") {
      console.log(`kept ${this.root}`);
      return;
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/**
 * Starts an L-main group: devices, then archives, proxies and storages (H-startup_list).
 * On any failure everything started is killed.
 */
export async function startGroup(options: GroupOptions = {}): Promise<Group> {
  const root = await Deno.makeTempDir({ prefix: "walb-group-" });
  const group = new Group(root, options);
  try {
    await Deno.mkdir(group.runDir, { recursive: true });
    const ddevBytes = options.ddevBytes ?? DDEV_BYTES;
    const deviceCount = options.deviceCount ?? 2;
    await Promise.all(
      Array.from({ length: deviceCount }, (_, index) => group.createDevice(index, ddevBytes)),
    );
    const names = options.servers ?? SERVER_NAMES;
    for (const name of names) await group.spawn(name);
    for (const name of names) await group.waitServing(name);
    return group;
  } catch (error) {
    await group.close();
    throw error;
  }
}

/**
 * H-RandomWriter: writes one random 4 KiB block (sometimes a TRIM) at a random offset every
 * `intervalMs` on its own NBD connection until {@link stop}. {@link between} runs a step
 * while no write is in flight (every acknowledged write is in the device's log, so a
 * snapshot taken there covers exactly the writes done so far).
 */
export class RandomWriter {
  #stopped = false;
  #loop: Promise<void>;
  #lock: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  /** Writes acknowledged so far. */
  writeCount = 0;

  constructor(
    client: NbdTestClient,
    prng: Prng,
    intervalMs: number,
    trimChance = 0.1,
  ) {
    this.#loop = (async () => {
      try {
        while (!this.#stopped) {
          await this.between(async () => {
            const offsetBytes = 4096 * prng.int(client.sizeBytes / 4096);
            if (prng.chance(trimChance)) await client.trim(offsetBytes, 4096);
            else await client.write(offsetBytes, prng.bytes(4096));
            this.writeCount++;
          });
          await sleep(intervalMs);
        }
        await client.flush();
      } finally {
        await client.disconnect();
      }
    })().catch((error) => {
      this.#error = error;
    });
  }

  /** Starts a writer on device `index` of `group`. */
  static async start(
    group: Group,
    index: number,
    prng: Prng,
    intervalMs = 50,
  ): Promise<RandomWriter> {
    return new RandomWriter(await NbdTestClient.connect(group.device(index).nbd), prng, intervalMs);
  }

  /** Runs `step` with the writer held between two writes. */
  between<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(step);
    this.#lock = result.then(() => {}, () => {});
    return result;
  }

  /** Stops, flushes and disconnects; rejects if a write failed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    if (this.#error !== undefined) throw this.#error;
  }
}

/** Runs `body` on a fresh group and always closes it. */
export async function withGroup(
  body: (group: Group) => Promise<void>,
  options: GroupOptions = {},
): Promise<void> {
  const group = await startGroup(options);
  try {
    await body(group);
  } catch (error) {
    const logs: string[] = [];
    for (const server of group.servers.values()) {
      logs.push(`---- ${server.name} log tail\n${await group.tail(server.logPath, 15)}`);
      logs.push(`---- ${server.name} out tail\n${await group.tail(server.outPath, 5)}`);
    }
    console.error(logs.join("\n"));
    throw error;
  } finally {
    await group.close();
  }
}
