/**
 * The in-memory side of one storage volume (protocol-and-servers.md §2.2.3) and the context
 * every storage handler and background task shares: configuration, store, devices, runtime,
 * volumes, task queue and the proxy table.
 *
 * @module
 */
import type { CompressOpt } from "../../codec/codec.ts";
import type { MetaLsidGid } from "../../format/meta/mod.ts";
import { metaLsidGid } from "../../format/meta/mod.ts";
import type { WalbDevice } from "../../device/wdev.ts";
import type { NetAddr } from "../../net.ts";
import type { ServerRuntime } from "../runtime/server.ts";
import { StateMachine } from "../runtime/state_machine.ts";
import { DelayedTaskQueue } from "../runtime/task_queue.ts";
import { ActionCounters, StopFlag } from "../runtime/volume_flags.ts";
import { ACTION_NAMES, SS, STORAGE_EDGES, U64_MAX } from "./constants.ts";
import type { StorageDevices } from "./devices.ts";
import type { StorageStore } from "./store.ts";

/** Storage options that handlers and workers use (protocol-and-servers.md §2.2.1). */
export interface StorageConfig {
  baseDir: string;
  /** `-archive`: the primary archive. */
  archive: NetAddr;
  /** `-proxy`: proxies in priority order. */
  proxies: NetAddr[];
  /** `-wl` MiB in bytes: most wlog bytes sent per transfer. */
  maxWlogSendBytes: number;
  /** `-snapintvl` in seconds: implicit snapshot interval. */
  implicitSnapshotIntervalSec: number;
  /** `-delay` in ms: first retry delay. */
  minRetryDelayMs: number;
  /** `-maxdelay` in ms: longest retry delay. */
  maxRetryDelayMs: number;
  /** `-bg`: concurrent wlog tasks. */
  maxBackgroundTasks: number;
  /** Connect and socket timeout of outgoing connections [ms] (`-to`). */
  connectTimeoutMs: number;
  /** `-fst`: full-backup read throughput limit [bytes/s], 0 = unlimited. */
  fullScanBytesPerSec: number;
  /** `-tsdintvl` [ms]. */
  tsDeltaIntervalMs: number;
  /** `-sync-cmpr`. */
  syncCompression: CompressOpt;
  /** How long a device monitor waits for new log before looking again [ms] (default 1000). */
  monitorWaitMs?: number;
  /** Proxy heartbeat interval per proxy [ms] (default 10 s). */
  proxyCheckIntervalMs?: number;
  /** Proxy monitor tick [ms] (default 1 s). */
  proxyMonitorTickMs?: number;
  /** Random bytes (queue salts); default crypto.getRandomValues. */
  random?: (target: Uint8Array) => void;
}

/** One queued wlog task: its volume and the last retry delay (0 = not a retry). */
export interface WlogTask {
  volId: string;
  retryDelayMs: number;
}

/** One configured proxy and its heartbeat state (§2.2.6). */
export interface ProxyEntry {
  addr: NetAddr;
  isAvailable: boolean;
  /** Clock ms of the last check (−∞: due now). */
  lastCheckMs: number;
}

/** One volume in memory. */
export class StorageVolume {
  readonly state = new StateMachine(STORAGE_EDGES, SS.clear);
  readonly stop = new StopFlag();
  readonly actions: ActionCounters;
  wdevPath = "";
  done: MetaLsidGid = metaLsidGid(U64_MAX, U64_MAX);
  /** Queued snapshots, newest first. */
  queue: MetaLsidGid[] = [];
  queueSalt = 0;
  uuid: Uint8Array = new Uint8Array(16);
  /** The opened device (while the volume directory exists). */
  device: WalbDevice | undefined;
  /** Set while the device monitor runs; aborting it stops the monitor. */
  monitor: AbortController | undefined;
  /** Aborted by a force stop (a running transfer or backup stops); replaced afterwards. */
  forceStop = new AbortController();
  #lockTail: Promise<void> = Promise.resolve();

  constructor(readonly volId: string, runtime: ServerRuntime) {
    this.actions = new ActionCounters(ACTION_NAMES, runtime.clock);
  }

  get isMonitored(): boolean {
    return this.monitor !== undefined;
  }

  /** The newest queued record, or the done record. */
  latestRecord(): MetaLsidGid {
    return this.queue[0] ?? this.done;
  }

  /** Runs `body` with the volume's metadata lock (done record and queue changes). */
  async locked<T>(body: () => Promise<T>): Promise<T> {
    const previous = this.#lockTail;
    let release!: () => void;
    this.#lockTail = new Promise((resolve) => release = resolve);
    await previous;
    try {
      return await body();
    } finally {
      release();
    }
  }

  /** Forgets the persisted data (after clear-vol). */
  reset(): void {
    this.wdevPath = "";
    this.done = metaLsidGid(U64_MAX, U64_MAX);
    this.queue = [];
    this.uuid = new Uint8Array(16);
  }
}

/** What every storage handler and task shares. */
export class StorageContext {
  readonly volumes = new Map<string, StorageVolume>();
  readonly queue: DelayedTaskQueue<WlogTask>;
  readonly proxies: ProxyEntry[];
  /** The last ts-delta lines gathered from the archive. */
  tsDelta: string[] = [];
  /** `set-full-scan-bps` (initially `-fst`). */
  fullScanBytesPerSec: number;

  constructor(
    readonly runtime: ServerRuntime,
    readonly store: StorageStore,
    readonly devices: StorageDevices,
    readonly config: StorageConfig,
  ) {
    this.queue = new DelayedTaskQueue<WlogTask>(runtime.clock);
    this.proxies = config.proxies.map((addr) => ({
      addr,
      isAvailable: true,
      lastCheckMs: Number.NEGATIVE_INFINITY,
    }));
    this.fullScanBytesPerSec = config.fullScanBytesPerSec;
  }

  /** The volume (created lazily as Clear, §2.1.6). */
  volume(volId: string): StorageVolume {
    let volume = this.volumes.get(volId);
    if (volume === undefined) {
      volume = new StorageVolume(volId, this.runtime);
      this.volumes.set(volId, volume);
    }
    return volume;
  }

  /** Current unix seconds. */
  nowSec(): number {
    return Math.floor(this.runtime.clock.nowMs() / 1000);
  }

  /** Random u32 (queue salts). */
  randomU32(): number {
    const bytes = new Uint8Array(4);
    (this.config.random ?? ((target) => crypto.getRandomValues(target)))(bytes);
    return new DataView(bytes.buffer).getUint32(0, true);
  }

  /** The opened device of a volume (opened on first use). */
  async deviceOf(volume: StorageVolume): Promise<WalbDevice> {
    volume.device ??= await this.devices.open(volume.wdevPath);
    return volume.device;
  }

  /** Queues a wlog task: `force` reschedules an already queued one (§2.1.9). */
  pushTask(volId: string, delayMs: number, force = false, retryDelayMs = 0): void {
    const task: WlogTask = { volId, retryDelayMs };
    if (force) this.queue.pushForce(volId, task, delayMs);
    else this.queue.push(volId, task, delayMs);
  }

  /** Drops the queued task of a volume. */
  dropTask(volId: string): void {
    this.queue.remove(volId);
  }

  /** `-wl` in physical blocks of `pbs`. */
  maxWlogSendPb(pbs: number): bigint {
    return BigInt(Math.max(1, Math.floor(this.config.maxWlogSendBytes / pbs)));
  }
}
