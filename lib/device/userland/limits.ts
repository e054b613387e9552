/**
 * Named limits of the userland WalB device daemon and its control channel (kept beside the
 * code that uses them, like the engine's and the NBD server's). Relations are asserted when
 * the module loads.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { NBD_LIMITS } from "../../nbd/limits.ts";

export const USERLAND_LIMITS = {
  /**
   * Largest NBD READ/WRITE we advertise [bytes]: big enough for qemu and nbdcopy to stream,
   * small enough that one request stays well below the engine's pending-data bound (32 MiB).
   */
  nbdRequestSizeMax: 4 * 1024 * 1024,
  /** Longest control request or response line [bytes]; a longer one is a protocol error. */
  controlLineSizeMax: 64 * 1024,
  /** Control connections served at once; more wait in the kernel's listen backlog. */
  controlConnectionsMax: 64,
  /** Longest wait-for-permanent request [ms]: callers re-ask (the storage loop polls). */
  waitPermanentMsMax: 3_600_000,
  /** Time create-wdev waits for a spawned daemon to serve [ms]. */
  daemonStartMsMax: 60_000,
  /** Time delete-wdev waits for the daemon to remove its sockets after a stop [ms]. */
  daemonStopMsMax: 60_000,
  /** Longest WalB device name (the driver's WALB_DEV_NAME_MAX_LEN). */
  nameLengthMax: 25,
  /** Handle closes a daemon remembers for its read-only report (close_trace.ts): the newest. */
  closeRecordsMax: 64,
  /** Tries to lock a held pid file before EEXIST (a prober's shared lock lasts a moment). */
  pidFileClaimAttemptsMax: 5,
  /** Wait between pid file lock tries [ms]. */
  pidFileClaimRetryMs: 20,
} as const;

assert(
  USERLAND_LIMITS.nbdRequestSizeMax <= NBD_LIMITS.blockSizeMaxDefault,
  "our NBD maximum is within the server's",
);
assert(USERLAND_LIMITS.controlLineSizeMax >= 4096, "an lsids text and an error message fit");
