/**
 * Archive states, transitions and actions (protocol-and-servers.md §2.4.2, §2.5.3).
 *
 * @module
 */
import type { StateEdges } from "../runtime/state_machine.ts";

/** Archive state names (steady and temporary). */
export const AS = {
  clear: "Clear",
  syncReady: "SyncReady",
  archived: "Archived",
  stopped: "Stopped",
  initVol: "InitVol",
  clearVol: "ClearVol",
  resetVol: "ResetVol",
  fullSync: "FullSync",
  hashSync: "HashSync",
  resync: "Resync",
  wdiffRecv: "WdiffRecv",
  replSyncAsServer: "ReplSyncAsServer",
  stop: "Stop",
  start: "Start",
} as const;

/** The archive's state graph. */
export const ARCHIVE_EDGES: StateEdges = [
  [AS.clear, AS.initVol],
  [AS.initVol, AS.syncReady],
  [AS.syncReady, AS.clearVol],
  [AS.stopped, AS.clearVol],
  [AS.clearVol, AS.clear],
  [AS.syncReady, AS.fullSync],
  [AS.fullSync, AS.archived],
  [AS.syncReady, AS.resync],
  [AS.resync, AS.archived],
  [AS.archived, AS.hashSync],
  [AS.hashSync, AS.archived],
  [AS.archived, AS.wdiffRecv],
  [AS.wdiffRecv, AS.archived],
  [AS.archived, AS.replSyncAsServer],
  [AS.replSyncAsServer, AS.archived],
  [AS.archived, AS.stop],
  [AS.stop, AS.stopped],
  [AS.stopped, AS.start],
  [AS.start, AS.archived],
  [AS.stopped, AS.resetVol],
  [AS.syncReady, AS.resetVol],
  [AS.resetVol, AS.syncReady],
];

/** States written to the `state` file. */
export const PERSISTED_STATES: readonly string[] = [AS.syncReady, AS.archived, AS.stopped];

/** Steady states (`dbg-set-state` accepts these). */
export const STEADY_STATES: readonly string[] = [AS.clear, ...PERSISTED_STATES];

/** "Active" states. */
export const ACTIVE_STATES: readonly string[] = [
  AS.archived,
  AS.hashSync,
  AS.wdiffRecv,
  AS.replSyncAsServer,
];

/** Active states and Stopped. */
export const ACTIVE_OR_STOPPED: readonly string[] = [...ACTIVE_STATES, AS.stopped];

/** Action names. */
export const ACTIONS = {
  merge: "Merge",
  apply: "Apply",
  restore: "Restore",
  replSyncAsClient: "ReplSyncAsClient",
  resize: "Resize",
} as const;

/** Action names in status order. */
export const ACTION_NAMES: readonly string[] = Object.values(ACTIONS);
