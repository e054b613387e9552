/**
 * States and state groups the controller waits on (controller-api.md §0.2, §0.3).
 *
 * @module
 */

/** Default timeout of long waits (`TIMEOUT_SEC`, 1 day). */
export const TIMEOUT_MS = 86_400_000;
/** `SHORT_TIMEOUT_SEC`: reset, status, restored-volume deletion, resize waits. */
export const SHORT_TIMEOUT_MS = 100_000;
/** Default of the state-wait helpers. */
export const STATE_WAIT_TIMEOUT_MS = 10_000;
/** Every wait loop polls this often. */
export const POLL_INTERVAL_MS = 300;

/** Storage: FullSync → Stopped → StartTarget → Target. */
export const S_DURING_FULL_SYNC: readonly string[] = ["FullSync", "Stopped", "StartTarget"];
/** Storage: HashSync → Stopped → StartTarget → Target. */
export const S_DURING_HASH_SYNC: readonly string[] = ["HashSync", "Stopped", "StartTarget"];
/** Storage stop of a target (the steady state first: the server answers before moving). */
export const S_DURING_STOP_FOR_TARGET: readonly string[] = ["Target", "StopTarget"];
/** Storage stop of a standby. */
export const S_DURING_STOP_FOR_STANDBY: readonly string[] = ["Standby", "StopStandby"];
/** Proxy active. */
export const P_ACTIVE: readonly string[] = ["Started", "WlogRecv"];
/** Proxy stopping. */
export const P_DURING_STOP: readonly string[] = ["Started", "WlogRecv", "Stop", "WaitForEmpty"];
/** Archive active. */
export const A_ACTIVE: readonly string[] = [
  "Archived",
  "WdiffRecv",
  "HashSync",
  "ReplSyncAsServer",
];
/** Archive states that accept resize. */
export const A_ACCEPT_FOR_RESIZE: readonly string[] = [...A_ACTIVE, "Stopped", "SyncReady"];
/** Archive states that accept clear-vol. */
export const A_ACCEPT_FOR_CLEAR_VOL: readonly string[] = ["Stopped", "SyncReady"];
/** Archive receiving a replication. */
export const A_DURING_REPLICATE: readonly string[] = ["ReplSyncAsServer", "FullSync", "Resync"];
/** Archive stopping. */
export const A_DURING_STOP: readonly string[] = [...A_ACTIVE, "Stop"];
/** Archive full sync. */
export const A_DURING_FULL_SYNC: readonly string[] = ["FullSync"];
/** Archive hash sync. */
export const A_DURING_HASH_SYNC: readonly string[] = ["HashSync"];
