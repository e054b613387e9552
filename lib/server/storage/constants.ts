/**
 * Storage states, transitions, actions and fixed timings (protocol-and-servers.md §2.2.2,
 * §2.2.4, §2.5.1).
 *
 * @module
 */
import type { StateEdges } from "../runtime/state_machine.ts";

/** Storage state names (steady and temporary). */
export const SS = {
  clear: "Clear",
  syncReady: "SyncReady",
  stopped: "Stopped",
  target: "Target",
  standby: "Standby",
  initVol: "InitVol",
  clearVol: "ClearVol",
  startStandby: "StartStandby",
  stopStandby: "StopStandby",
  fullSync: "FullSync",
  hashSync: "HashSync",
  startTarget: "StartTarget",
  stopTarget: "StopTarget",
  reset: "Reset",
} as const;

/** The storage's state graph (§2.2.2). */
export const STORAGE_EDGES: StateEdges = [
  [SS.clear, SS.initVol],
  [SS.initVol, SS.syncReady],
  [SS.syncReady, SS.clearVol],
  [SS.clearVol, SS.clear],
  [SS.syncReady, SS.startStandby],
  [SS.startStandby, SS.standby],
  [SS.standby, SS.stopStandby],
  [SS.stopStandby, SS.syncReady],
  [SS.syncReady, SS.fullSync],
  [SS.fullSync, SS.stopped],
  [SS.syncReady, SS.hashSync],
  [SS.hashSync, SS.stopped],
  [SS.stopped, SS.reset],
  [SS.reset, SS.syncReady],
  [SS.stopped, SS.startTarget],
  [SS.startTarget, SS.target],
  [SS.target, SS.stopTarget],
  [SS.stopTarget, SS.stopped],
];

/** States written to the `state` file. */
export const PERSISTED_STATES: readonly string[] = [
  SS.syncReady,
  SS.stopped,
  SS.target,
  SS.standby,
];

/** States whose device is monitored and whose wlogs a worker handles. */
export const WORKER_STATES: readonly string[] = [SS.target, SS.fullSync, SS.hashSync, SS.standby];

/** Action names (§2.5.1). */
export const ACTIONS = { wlogSend: "WlogSend", wlogRemove: "WlogRemove" } as const;

/** Action names in status order. */
export const ACTION_NAMES: readonly string[] = [ACTIONS.wlogSend, ACTIONS.wlogRemove];

/** How long `stop` waits for a steady state without running actions (§1.7). */
export const STOP_WAIT_MS = 60_000;

/** Polling interval of the stop wait. */
export const STOP_POLL_MS = 100;

/** Re-queue delay of a task that found its volume busy or starting (§2.2.5 step 1). */
export const BUSY_RETRY_DELAY_MS = 100;

/** Delay of a task queued by the device monitor after an lsid change (§2.2.4). */
export const MONITOR_PUSH_DELAY_MS = 100;

/** Interval between proxy heartbeats of one proxy (§2.2.4). */
export const PROXY_CHECK_INTERVAL_MS = 10_000;

/** Timeout of one proxy heartbeat (connect, read, write) (§1.7). */
export const PROXY_HEARTBEAT_TIMEOUT_MS = 3_000;

/** Tick of the proxy monitor (§2.2.4). */
export const PROXY_MONITOR_TICK_MS = 1_000;

/** Default `-bulk` of full-bkp (§1.9.5) [bytes]. */
export const DEFAULT_BULK_BYTES = 256 * 1024;

/** Range of `-bulk` (§1.9.5) [bytes]. */
export const BULK_BYTES_MIN = 512;
export const BULK_BYTES_MAX = 4 * 1024 * 1024;

/** The done record's init value: lsid and gid "none". */
export const U64_MAX = (1n << 64n) - 1n;

/** Limits of the storage's wlog extraction (wldev_reader.ts). */
export const STORAGE_LIMITS = {
  /**
   * Bytes of one O_DIRECT read of the wldev: a few large reads instead of one per record
   * (records of a sequential writer are 1 MiB or less; larger ones are read on their own).
   */
  wldevReadSizeBytes: 4 * 1024 * 1024,
  /** Wldev reads kept ahead of the packs being sent (2 × 4 MiB in memory, plus the one served). */
  wldevReadAheadCount: 2,
} as const;
