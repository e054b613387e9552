/**
 * The userland WalB device daemon: one {@link WalbEngine} over an ldev and a ddev (regular
 * files or block devices; the ldev with O_DIRECT where the target supports it), served to
 * block clients over NBD on `<run dir>/NAME.nbd` (and optionally a TCP port, loopback by
 * default), and controlled through `<run dir>/NAME` (control_server.ts). The pid file
 * `<run dir>/NAME.pid`, locked while the daemon lives (pid_file.ts), claims the name. {@link WalbDaemon.stop} is the clean stop of §5.9.
 *
 * @module
 */
import type { Clock } from "../../clock.ts";
import { type NbdLogger, NbdServer } from "../../nbd/mod.ts";
import { type BlockDevice, BlockIoError, openBlockDevice } from "../block/mod.ts";
import type { WalbEngineOptions } from "../walb/engine_options.ts";
import { WalbEngine } from "../walb/engine.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { queryDaemon } from "./client.ts";
import { describeFailure, traceClose } from "./close_trace.ts";
import { claimPidFile, type PidFileLock } from "./pid_file.ts";
import { ControlServer } from "./control_server.ts";
import { WalbNbdBackend } from "./nbd_backend.ts";
import { checkUserlandName, userlandNames, type UserlandPaths, userlandPaths } from "./paths.ts";
import type { DaemonInfo } from "./protocol.ts";

/** Engine options a daemon passes through (wdevc create-wdev's start parameters). */
export type DaemonEngineOptions = Omit<WalbEngineOptions, "clock" | "name" | "onEvent">;

/** Options of {@link WalbDaemon.start}. */
export interface WalbDaemonOptions {
  runDir: string;
  /** The device name (already decided: -n, else the super's, else wdev<K>). */
  name: string;
  ldevPath: string;
  ddevPath: string;
  /** Also serve NBD on TCP; hostname defaults to 127.0.0.1. */
  tcp?: { hostname?: string; port: number };
  engine?: DaemonEngineOptions;
  clock: Clock;
  logger: NbdLogger;
  /** Open the ldev with O_DIRECT when the target supports it (default true). */
  directLdev?: boolean;
  /**
   * Open the ddev with O_DIRECT when the target supports it (default false for regular
   * files, whose page cache serves reads; block devices always use O_DIRECT). Measured on
   * a VM disk: O_DIRECT 4 KiB random reads were 9× slower than through the page cache.
   */
  directDdev?: boolean;
}

/**
 * Small ddev writes of a buffered file run on the main thread (a page-cache copy costs less
 * CPU than a blocking-pool round trip; the device falls back to the pool for a second after a
 * write that stalled). Measured on the busy 2-core VM, 4 KiB QD 32 random writes: 64 KiB here
 * 19-20k IOPS at 9-11 s/GB of daemon CPU, p99 20-22 ms; every write on the pool 17-18k IOPS at
 * 15 s/GB, p99 11-12 ms.
 */
const DDEV_SYNC_WRITE_SIZE_MAX_BYTES = 64 * 1024;

/** Opens a device, with O_DIRECT when asked and supported, else buffered. */
async function openDevice(
  path: string,
  direct: boolean,
  syncWriteSizeMaxBytes = 0,
): Promise<BlockDevice> {
  if (!direct) return await openBlockDevice(path, { syncWriteSizeMaxBytes });
  try {
    return await openBlockDevice(path, { direct: true });
  } catch (error) {
    if (!(error instanceof BlockIoError) || error.code !== "EINVAL") throw error;
    return await openBlockDevice(path, { direct: false, syncWriteSizeMaxBytes });
  }
}

/** Resolves a path to its canonical form for comparisons (the path itself if that fails). */
async function canonical(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return path;
    throw error;
  }
}

/**
 * Refuses devices whose ldev or ddev another live daemon in `runDir` uses (the driver opens
 * them exclusively, §5.8 step 1).
 */
async function checkNotInUse(runDir: string, own: string, ldev: string, ddev: string) {
  const mine = new Set([await canonical(ldev), await canonical(ddev)]);
  for (const name of await userlandNames(runDir)) {
    if (name === own) continue;
    const info = await queryDaemon(userlandPaths(runDir, name).controlPath);
    if (info === undefined) continue;
    for (const path of [info.ldevPath, info.ddevPath]) {
      if (mine.has(await canonical(path))) {
        throw new WalbDeviceError(
          `create device ${own}`,
          "EBUSY",
          `${path} is in use by device ${info.name}`,
        );
      }
    }
  }
}

/** A running userland WalB device. */
export class WalbDaemon {
  readonly paths: UserlandPaths;
  readonly engine: WalbEngine;
  readonly #options: WalbDaemonOptions;
  readonly #ldev: BlockDevice;
  readonly #ddev: BlockDevice;
  readonly #pidFile: PidFileLock;
  #nbd: NbdServer | undefined;
  #control: ControlServer | undefined;
  #stopping: Promise<void> | undefined;
  #finished: Promise<void> | undefined;
  #resolveDone!: () => void;
  /** Resolves once the daemon has stopped and removed its files. */
  readonly done: Promise<void>;

  private constructor(
    options: WalbDaemonOptions,
    paths: UserlandPaths,
    devices: { ldev: BlockDevice; ddev: BlockDevice; engine: WalbEngine; pidFile: PidFileLock },
  ) {
    this.#options = options;
    this.paths = paths;
    this.#ldev = devices.ldev;
    this.#ddev = devices.ddev;
    this.engine = devices.engine;
    this.#pidFile = devices.pidFile;
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
  }

  /**
   * Starts a device: claims the name, opens the ldev and ddev, assembles the engine (redo,
   * §5.8), then serves NBD and the control socket.
   *
   * @throws {WalbDeviceError} EEXIST when the name is taken, EBUSY when the ldev or ddev is
   *   in use by another device, EINVAL for a bad name
   * @throws {WalbEngineError} or CorruptDataError when the devices do not assemble
   */
  static async start(options: WalbDaemonOptions): Promise<WalbDaemon> {
    checkUserlandName(options.name);
    const paths = userlandPaths(options.runDir, options.name);
    await Deno.mkdir(options.runDir, { recursive: true });
    await checkNotInUse(options.runDir, options.name, options.ldevPath, options.ddevPath);
    const pidFile = await claimPidFile(paths);
    const opened: BlockDevice[] = [];
    try {
      const ldev = traceClose(
        await openDevice(options.ldevPath, options.directLdev ?? true),
        `ldev ${options.ldevPath}`,
      );
      opened.push(ldev);
      const ddev = traceClose(
        await openDevice(
          options.ddevPath,
          options.directDdev ?? false,
          DDEV_SYNC_WRITE_SIZE_MAX_BYTES,
        ),
        `ddev ${options.ddevPath}`,
      );
      opened.push(ddev);
      const logger = options.logger;
      const engine = await WalbEngine.open(ldev, ddev, {
        ...options.engine,
        clock: options.clock,
        name: options.name,
        onEvent: (event) => {
          if (event.kind === "redo") {
            logger.info(
              `redo: ${JSON.stringify(event.result, (_, v) => typeof v === "bigint" ? `${v}` : v)}`,
            );
          } else if (event.kind === "overflow") {
            logger.warn(`log overflow: ring buffer ${event.ringBufferSize} pb`);
          } else {
            // The whole cause chain with stacks and every handle closed so far: an early
            // close of one of our own handles ("Bad resource ID") is then named.
            logger.error(`the device turned read-only\n${describeFailure(event.error)}`);
          }
        },
      });
      const daemon = new WalbDaemon(options, paths, { ldev, ddev, engine, pidFile });
      try {
        await daemon.#serve();
      } catch (error) {
        await daemon.#closeAll();
        throw error;
      }
      return daemon;
    } catch (error) {
      for (const device of opened.reverse()) await device.close().catch(() => {});
      await pidFile.release();
      throw error;
    }
  }

  async #serve(): Promise<void> {
    const nbdOptions: Parameters<typeof NbdServer.listen>[1] = {
      unixPath: this.paths.nbdPath,
      logger: this.#options.logger,
      description: `WalB device ${this.paths.name}`,
      clock: this.#options.clock,
    };
    if (this.#options.tcp !== undefined) nbdOptions.tcp = this.#options.tcp;
    this.#nbd = await NbdServer.listen(new WalbNbdBackend(this.engine), nbdOptions);
    this.#control = await ControlServer.listen(this.paths.controlPath, {
      engine: this.engine,
      info: () => this.info(),
      stopDevice: (force) => this.#stopDevice(force),
      afterStop: () => void this.#finish(),
      logger: this.#options.logger,
    });
  }

  /** What the `info` request returns. */
  info(): DaemonInfo {
    return {
      name: this.paths.name,
      pid: Deno.pid,
      ldevPath: this.#options.ldevPath,
      ddevPath: this.#options.ddevPath,
      nbdPath: this.paths.nbdPath,
      nbdUri: this.paths.nbdUri,
      tcpPort: this.#nbd?.tcpPort ?? null,
      sizeLb: this.engine.deviceSizeLb.toString(),
      pbs: this.engine.pbs,
      nbdConnections: this.#nbd?.connectionCount ?? 0,
    };
  }

  /** The loopback TCP port of the NBD export, when one was asked for. */
  get tcpPort(): number | null {
    return this.#nbd?.tcpPort ?? null;
  }

  /**
   * The clean stop (STOP_DEV, §5.9): NBD clients are disconnected, the engine melts, drains,
   * sets written := latest and syncs the super; then the sockets and pid file are removed.
   *
   * @param force stop even while NBD clients are connected (else EBUSY, like the driver)
   */
  async stop(force = true): Promise<void> {
    await this.#stopDevice(force);
    await this.#finish();
  }

  #stopDevice(force: boolean): Promise<void> {
    if (this.#stopping === undefined) {
      const connections = this.#nbd?.connectionCount ?? 0;
      if (!force && connections > 0) {
        return Promise.reject(
          new WalbDeviceError(
            `delete device ${this.paths.name}`,
            "EBUSY",
            `${connections} NBD client(s) connected (use -f to force)`,
          ),
        );
      }
      this.#stopping = (async () => {
        await this.#nbd?.stop();
        try {
          await this.engine.stop();
        } catch (error) {
          // A read-only device cannot sync its super; it is torn down all the same (as the
          // driver's STOP_DEV), and the next start redoes the log.
          this.#options.logger.error("clean stop failed; the device stops anyway", error);
        } finally {
          await this.#ldev.close();
          await this.#ddev.close();
        }
      })();
    }
    return this.#stopping;
  }

  #finish(): Promise<void> {
    this.#finished ??= (async () => {
      try {
        await this.#control?.close();
      } finally {
        for (const path of [this.paths.controlPath, this.paths.nbdPath]) {
          await Deno.remove(path).catch(() => {});
        }
        await this.#pidFile.release(); // last: the name stays claimed until the sockets are gone
        this.#resolveDone();
      }
    })();
    return this.#finished;
  }

  async #closeAll(): Promise<void> {
    await this.#nbd?.stop().catch(() => {});
    await this.#control?.close().catch(() => {});
    await this.engine.stop().catch(() => {});
  }
}
