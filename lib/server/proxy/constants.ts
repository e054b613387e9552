/**
 * Proxy states and transitions (protocol-and-servers.md §2.3.2, §2.5.2).
 *
 * @module
 */
import type { StateEdges } from "../runtime/state_machine.ts";

/** Proxy state names (steady and temporary). */
export const PS = {
  clear: "Clear",
  stopped: "Stopped",
  started: "Started",
  start: "Start",
  stop: "Stop",
  clearVol: "ClearVol",
  addArchiveInfo: "AddArchiveInfo",
  deleteArchiveInfo: "DeleteArchiveInfo",
  wlogRecv: "WlogRecv",
  waitForEmpty: "WaitForEmpty",
} as const;

/** The proxy's state graph (§2.3.2). */
export const PROXY_EDGES: StateEdges = [
  [PS.clear, PS.addArchiveInfo],
  [PS.stopped, PS.addArchiveInfo],
  [PS.addArchiveInfo, PS.stopped],
  [PS.stopped, PS.deleteArchiveInfo],
  [PS.deleteArchiveInfo, PS.stopped],
  [PS.deleteArchiveInfo, PS.clear],
  [PS.stopped, PS.clearVol],
  [PS.clearVol, PS.clear],
  [PS.stopped, PS.start],
  [PS.start, PS.started],
  [PS.started, PS.stop],
  [PS.stop, PS.stopped],
  [PS.started, PS.waitForEmpty],
  [PS.waitForEmpty, PS.stopped],
  [PS.started, PS.wlogRecv],
  [PS.wlogRecv, PS.started],
];

/** States in which wdiffs are sent to archives (and `kick` acts). */
export const SENDING_STATES: readonly string[] = [PS.started, PS.wlogRecv, PS.waitForEmpty];

/** Action name shown by `status` while a wdiff send to an archive runs. */
export const WDIFF_SEND_ACTION = "WdiffSend";

/** How long `stop` waits for a steady state and for sends to end (§1.7). */
export const STOP_WAIT_MS = 60_000;

/** Polling interval of the stop waits. */
export const STOP_POLL_MS = 100;

/** Re-queue delay of a task that found its volume in the `Start` state (§2.3.5 step 1). */
export const START_RETRY_DELAY_MS = 1_000;

/** Re-queue delay after an exception (connect failure, protocol error) (§2.3.5). */
export const EXCEPTION_RETRY_DELAY_MS = 1_000;

/** Attempts to select diffs when selected files vanish concurrently (§2.3.5 step 2). */
export const SELECT_ATTEMPTS_MAX = 10;
