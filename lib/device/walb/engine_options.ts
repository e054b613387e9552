/**
 * Options of the userland WalB engine, their defaults (the driver's and wdevc's, §6.3) and
 * their validation, plus the events the engine reports.
 *
 * @module
 */
import { LOGICAL_BLOCK_SIZE } from "../../format/wlog/constants.ts";
import type { RedoResult } from "./redo.ts";
import { WalbEngineError } from "./errors.ts";
import type { RandomFill } from "./format.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";
import type { LsidSet } from "./lsid_state.ts";
import type { PayloadPool } from "./payload_pool.ts";

/** The time source (structurally lib/clock.ts `Clock`). */
export interface EngineClock {
  nowMs(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What the engine reports (the daemon logs them; library code never prints). */
export type WalbEngineEvent =
  | { kind: "redo"; result: RedoResult }
  | { kind: "overflow"; lsids: LsidSet; ringBufferSize: bigint }
  | { kind: "read-only"; error: unknown };

/** Options of `WalbEngine.open`. */
export interface WalbEngineOptions {
  clock: EngineClock;
  /** Periodic checkpoint [ms] (default 10000; 0 disables; at most one day). */
  checkpointIntervalMs?: number;
  /** `max_logpack_kb`: a pack with records takes no more data than this (default 32; 0 = no limit). */
  maxLogpackKb?: number;
  /** `max_pending_mb`: logged data not yet on the ddev before writers wait (default 32). */
  maxPendingMb?: number;
  /** `min_pending_mb`: writers resume below this (default max / 2). */
  minPendingMb?: number;
  /** `log_flush_interval_ms`: the ldev is flushed this often while log is not durable (default 100; 0 disables). */
  logFlushIntervalMs?: number;
  /** `log_flush_interval_mb`: the ldev is flushed after this much new log (default 16; 0 disables). */
  logFlushIntervalMb?: number;
  /** Name to start with; replaces the super's name when non-empty (§5.8 step 4). */
  name?: string;
  /** Name used when both `name` and the super's name are empty (the driver uses minor/2). */
  fallbackName?: string;
  /** Fail writes that would overflow the log instead of overwriting unextracted log. */
  errorBeforeOverflow?: boolean;
  /** Random source of reset-wal's salt and uuid (default crypto). */
  random?: RandomFill;
  /** Receives events (redo result, overflow, read-only). */
  onEvent?: (event: WalbEngineEvent) => void;
  /** Pool of lent write payload buffers (default a new one; tests pass a poisoning one). */
  payloadPool?: PayloadPool;
}

/** Options with defaults applied and derived sizes. */
export interface ResolvedEngineOptions {
  checkpointIntervalMs: number;
  maxLogpackPb: number;
  maxPendingBytes: number;
  minPendingBytes: number;
  logFlushIntervalMs: number;
  logFlushIntervalPb: bigint;
  errorBeforeOverflow: boolean;
}

function checkInteger(value: number, what: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new WalbEngineError(
      "open WalB engine",
      "EINVAL",
      `${what} ${value} is not an integer in [${min}, ${max}]`,
    );
  }
  return value;
}

/** Checks a checkpoint interval: an integer in [0, one day] ms. */
export function checkCheckpointInterval(intervalMs: number, operation: string): void {
  if (
    !Number.isSafeInteger(intervalMs) || intervalMs < 0 ||
    intervalMs > WALB_ENGINE_LIMITS.checkpointIntervalMsMax
  ) {
    throw new WalbEngineError(
      operation,
      "EINVAL",
      `interval ${intervalMs} ms is not in [0, ${WALB_ENGINE_LIMITS.checkpointIntervalMsMax}]`,
    );
  }
}

/**
 * Applies defaults and checks ranges (the kernel's start-parameter rules, §6.3).
 *
 * @throws {WalbEngineError} EINVAL naming the bad option
 */
export function resolveEngineOptions(
  options: WalbEngineOptions,
  pbs: number,
): ResolvedEngineOptions {
  const limits = WALB_ENGINE_LIMITS;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? limits.checkpointIntervalMsDefault;
  checkCheckpointInterval(checkpointIntervalMs, "open WalB engine");
  const maxLogpackKb = checkInteger(
    options.maxLogpackKb ?? limits.maxLogpackKbDefault,
    "max_logpack_kb",
    0,
    0xffffffff,
  );
  const maxPendingMb = checkInteger(
    options.maxPendingMb ?? limits.maxPendingMbDefault,
    "max_pending_mb",
    2,
    limits.maxPendingMbMax,
  );
  const minPendingMb = checkInteger(
    options.minPendingMb ?? Math.floor(maxPendingMb / 2),
    "min_pending_mb",
    1,
    maxPendingMb - 1,
  );
  const logFlushIntervalMs = checkInteger(
    options.logFlushIntervalMs ?? limits.logFlushIntervalMsDefault,
    "log_flush_interval_ms",
    0,
    limits.checkpointIntervalMsMax,
  );
  const logFlushIntervalMb = checkInteger(
    options.logFlushIntervalMb ?? limits.logFlushIntervalMbDefault,
    "log_flush_interval_mb",
    0,
    Math.floor(maxPendingMb / 2),
  );
  const mib = 1024 * 1024;
  return {
    checkpointIntervalMs,
    maxLogpackPb: Math.min(Math.floor((maxLogpackKb * 1024) / pbs), 65535),
    maxPendingBytes: maxPendingMb * mib,
    minPendingBytes: minPendingMb * mib,
    logFlushIntervalMs,
    logFlushIntervalPb: BigInt(logFlushIntervalMb) * BigInt(mib / pbs),
    errorBeforeOverflow: options.errorBeforeOverflow ?? false,
  };
}

/** Bytes of `sizeLb` logical blocks. */
export function lbToBytes(sizeLb: bigint): number {
  return Number(sizeLb) * LOGICAL_BLOCK_SIZE;
}
