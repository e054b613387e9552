/**
 * The in-memory side of one proxy volume (protocol-and-servers.md §2.3.3) and the context
 * every proxy handler and sender shares: configuration, store, runtime, volumes, task queue.
 *
 * @module
 */
import { MetaDiffManager } from "../../format/meta/mod.ts";
import type { ServerRuntime } from "../runtime/server.ts";
import { StateMachine } from "../runtime/state_machine.ts";
import { DelayedTaskQueue } from "../runtime/task_queue.ts";
import { StopFlag } from "../runtime/volume_flags.ts";
import { PROXY_EDGES, PS } from "./constants.ts";
import type { HostInfoForBkp } from "./host_info.ts";
import type { ProxyStore } from "./store.ts";
import { PROXY_LIMITS } from "../../limits.ts";
import { StorePool } from "./store_pool.ts";

/** Proxy options that handlers and senders use (protocol-and-servers.md §2.3.1). */
export interface ProxyConfig {
  baseDir: string;
  /** `-wd` in bytes: most wdiff bytes merged into one transfer. */
  maxWdiffSendSizeBytes: number;
  /** `-wn`: most wdiff files merged into one transfer. */
  maxWdiffSendCount: number;
  /** `-delay` in ms: first retry delay. */
  minRetryDelayMs: number;
  /** `-maxdelay` in ms: longest retry delay. */
  maxRetryDelayMs: number;
  /** `-rto` in ms: give up resending when no wlog arrived for this long. */
  retryTimeoutMs: number;
  /** `-bg`: concurrent wdiff sends. */
  maxBackgroundTasks: number;
  /** Connect timeout to archives [ms] (`-to`). */
  connectTimeoutMs: number;
  /**
   * Free bytes of the file system holding `path`, for the wlog-transfer acceptance check;
   * without it the check is skipped.
   */
  freeSpaceBytes?: (path: string) => Promise<number>;
}

/** One queued send: a (volume, archive) pair and its last retry delay (0 = not a retry). */
export interface SendTask {
  volId: string;
  archiveName: string;
  retryDelayMs: number;
}

/** The queue key of a (volume, archive) pair (volume ids never contain `/`). */
export function sendTaskKey(volId: string, archiveName: string): string {
  return `${volId}/${archiveName}`;
}

/** One volume in memory. */
export class ProxyVolume {
  readonly state = new StateMachine(PROXY_EDGES, PS.clear);
  readonly stop = new StopFlag();
  sizeLb = 0n;
  /** Archive name → its info (sorted by name when listed). */
  archives = new Map<string, HostInfoForBkp>();
  /** Diffs in `received/`. */
  received = new MetaDiffManager();
  /** Archive name → diffs in `sendto/<archive>/`. */
  pending = new Map<string, MetaDiffManager>();
  /** Unix seconds of the last wlog reception, 0 = none since startup (memory only). */
  lastWlogReceivedSec = 0;
  /** Archive name → unix seconds of the last successful send (memory only). */
  lastWdiffSentSec = new Map<string, number>();
  /** Archives whose sender gave up (cleared by kick, start, a new wlog). */
  sendError = new Set<string>();
  /** Archive name → running sends (0 or 1). */
  readonly sending = new Map<string, number>();
  /** Aborted by a force stop; replaced when the stop ends. */
  forceStop = new AbortController();
  #lockTail: Promise<void> = Promise.resolve();

  constructor(readonly volId: string) {}

  /** Archive names, sorted. */
  archiveNames(): string[] {
    return [...this.archives.keys()].sort();
  }

  /** The pending set of an archive (created empty on first use). */
  pendingOf(archiveName: string): MetaDiffManager {
    let diffs = this.pending.get(archiveName);
    if (diffs === undefined) {
      diffs = new MetaDiffManager();
      this.pending.set(archiveName, diffs);
    }
    return diffs;
  }

  /** Number of running sends over all archives. */
  sendCount(): number {
    let total = 0;
    for (const count of this.sending.values()) total += count;
    return total;
  }

  /** True while a send to `archiveName` runs. */
  isSending(archiveName: string): boolean {
    return (this.sending.get(archiveName) ?? 0) > 0;
  }

  /** Marks a send to `archiveName` as running; returns the function that ends it. */
  startSend(archiveName: string): () => void {
    this.sending.set(archiveName, (this.sending.get(archiveName) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.sending.set(archiveName, (this.sending.get(archiveName) ?? 1) - 1);
    };
  }

  /** Runs `body` with the volume's metadata lock (file links, renames, diff-set changes). */
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

  /** Forgets the persisted data (after clear-vol or deleting the last archive). */
  reset(): void {
    this.sizeLb = 0n;
    this.archives = new Map();
    this.received = new MetaDiffManager();
    this.pending = new Map();
    this.lastWdiffSentSec = new Map();
    this.sendError = new Set();
  }
}

/** What every proxy handler and sender shares. */
export class ProxyContext {
  readonly volumes = new Map<string, ProxyVolume>();
  readonly queue: DelayedTaskQueue<SendTask>;

  constructor(
    readonly runtime: ServerRuntime,
    readonly store: ProxyStore,
    readonly config: ProxyConfig,
  ) {
    this.queue = new DelayedTaskQueue<SendTask>(runtime.clock);
  }

  /** The volume (created lazily as Clear, §2.1.6). */
  volume(volId: string): ProxyVolume {
    let volume = this.volumes.get(volId);
    if (volume === undefined) {
      volume = new ProxyVolume(volId);
      this.volumes.set(volId, volume);
    }
    return volume;
  }

  /** Current unix seconds. */
  nowSec(): number {
    return Math.floor(this.runtime.clock.nowMs() / 1000);
  }

  #storePool: StorePool | undefined;

  /** The workers compressing received wlog data (started on first use, kept until close). */
  storePool(): StorePool {
    this.#storePool ??= new StorePool(PROXY_LIMITS.wlogStoreWorkerCount);
    return this.#storePool;
  }

  /** Stops the workers (server shutdown). */
  closeWorkers(): void {
    this.#storePool?.close();
    this.#storePool = undefined;
  }

  /**
   * Queues a send of `volId` to `archiveName` in `delayMs`: `force` reschedules an already
   * queued task, otherwise it keeps its earlier time (§2.1.9).
   */
  queueSend(volId: string, archiveName: string, delayMs: number, force = false): void {
    const task: SendTask = { volId, archiveName, retryDelayMs: 0 };
    const key = sendTaskKey(volId, archiveName);
    if (force) this.queue.pushForce(key, task, delayMs);
    else this.queue.push(key, task, delayMs);
  }

  /** Drops every queued task of a volume. */
  dropTasks(volId: string): void {
    this.queue.removeIf((_key, task) => task.volId === volId);
  }
}
