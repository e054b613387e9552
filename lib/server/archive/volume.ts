/**
 * The in-memory side of one archive volume (protocol-and-servers.md §2.4.3) and the context
 * every archive handler shares: configuration, store, backend, runtime, volumes.
 *
 * @module
 */
import type { ArchiveBackend } from "../../archive-backend/mod.ts";
import { baseImageName } from "../../archive-backend/mod.ts";
import {
  DEFAULT_META_STATE,
  MetaDiffManager,
  type MetaSnap,
  type MetaState,
} from "../../format/meta/mod.ts";
import type { DiscardPolicy } from "../../format/wdiff/apply.ts";
import { StateMachine } from "../runtime/state_machine.ts";
import { ActionCounters, StopFlag } from "../runtime/volume_flags.ts";
import type { ServerRuntime } from "../runtime/server.ts";
import { ACTION_NAMES, ARCHIVE_EDGES, AS } from "./constants.ts";
import type { ArchiveStore } from "./store.ts";

/** Archive options that handlers use (protocol-and-servers.md §2.4.1). */
export interface ArchiveConfig {
  baseDir: string;
  /** `-discard`. */
  discardPolicy: DiscardPolicy;
  /** `-fi` bytes. */
  fsyncIntervalBytes: number;
  /** `-maxopen` (0 = unlimited). */
  maxOpenDiffs: number;
  /** `-autoresize`. */
  autoResize: boolean;
  /** `-keep-one-cold-snap`. */
  keepOneColdSnap: boolean;
  /** `-wn`. */
  maxWdiffSendNr: number;
  /** `-maxopen-virt`. */
  maxOpenVirt: number;
}

/** One volume in memory. */
export class ArchiveVolume {
  readonly state: StateMachine;
  readonly stop = new StopFlag();
  readonly actions: ActionCounters;
  diffs = new MetaDiffManager();
  base: MetaState = DEFAULT_META_STATE;
  uuid: Uint8Array = new Uint8Array(16);
  archiveUuid: Uint8Array = new Uint8Array(16);
  /** Unix seconds, 0 = never (memory only). */
  lastSyncTimeSec = 0;
  lastWdiffReceivedSec = 0;
  /** LB processed by a running sync (0 when none). */
  progressLb = 0n;
  #lockTail: Promise<void> = Promise.resolve();

  constructor(readonly volId: string, runtime: ServerRuntime) {
    this.state = new StateMachine(ARCHIVE_EDGES, AS.clear);
    this.actions = new ActionCounters(ACTION_NAMES, runtime.clock);
  }

  /** The latest snapshot: base with every applicable diff. */
  latestSnap(): MetaSnap {
    return this.diffs.latestSnapshot(this.base);
  }

  /** The latest state (with the timestamp of the last diff). */
  latestState(): MetaState {
    return this.diffs.latestState(this.base);
  }

  /** Runs `body` with the volume's metadata lock (file renames and diff-set changes). */
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

  /** Forgets everything but the state machine and flags (after clear-vol). */
  reset(): void {
    this.diffs = new MetaDiffManager();
    this.base = DEFAULT_META_STATE;
    this.uuid = new Uint8Array(16);
    this.archiveUuid = new Uint8Array(16);
    this.progressLb = 0n;
  }
}

/** What every archive handler shares. */
export class ArchiveContext {
  readonly volumes = new Map<string, ArchiveVolume>();

  constructor(
    readonly runtime: ServerRuntime,
    readonly store: ArchiveStore,
    readonly backend: ArchiveBackend,
    readonly config: ArchiveConfig,
  ) {}

  /** The volume (created lazily as Clear, §2.1.6). */
  volume(volId: string): ArchiveVolume {
    let volume = this.volumes.get(volId);
    if (volume === undefined) {
      volume = new ArchiveVolume(volId, this.runtime);
      this.volumes.set(volId, volume);
    }
    return volume;
  }

  /** Current unix seconds. */
  nowSec(): number {
    return Math.floor(this.runtime.clock.nowMs() / 1000);
  }

  /** True if the base image exists. */
  async hasBaseImage(volId: string): Promise<boolean> {
    return await this.backend.exists(baseImageName(volId));
  }
}
