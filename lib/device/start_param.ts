/**
 * The start parameters of a WalB device (`walb_start_param`, device-and-wlog.md §6.3) and
 * the kernel's validation rules, shared by both backends of `wdevc create-wdev`.
 *
 * @module
 */
import { WALB_START_PARAM_DEFAULTS, type WalbStartParam } from "./kernel/ctl.ts";
import { WalbDeviceError } from "./wdev_error.ts";

export { WALB_START_PARAM_DEFAULTS, type WalbStartParam };

/** MAX_PENDING_MB of the driver. */
const MAX_PENDING_MB = 16384;

/**
 * Checks start parameters as the kernel does: 2 ≤ max_pending_mb ≤ 16384,
 * 1 ≤ min_pending_mb < max_pending_mb, queue_stop_timeout_ms ≥ 1,
 * 2·log_flush_interval_mb ≤ max_pending_mb, n_pack_bulk > 0, n_io_bulk > 0, and a name of at
 * most 25 characters.
 *
 * @throws {WalbDeviceError} EINVAL naming the first bad parameter
 * @example
 * ```ts
 * import { checkStartParam, WALB_START_PARAM_DEFAULTS } from "./start_param.ts";
 * checkStartParam(WALB_START_PARAM_DEFAULTS);
 * ```
 */
export function checkStartParam(param: WalbStartParam): void {
  const fail = (detail: string): never => {
    throw new WalbDeviceError("check start parameters", "EINVAL", detail);
  };
  if (param.name.length > 25) fail(`name "${param.name}" is longer than 25 characters`);
  if (param.maxPendingMb < 2 || param.maxPendingMb > MAX_PENDING_MB) {
    fail(`max_pending_mb ${param.maxPendingMb} is not in [2, ${MAX_PENDING_MB}]`);
  }
  if (param.minPendingMb < 1 || param.minPendingMb >= param.maxPendingMb) {
    fail(`min_pending_mb ${param.minPendingMb} is not in [1, max_pending_mb)`);
  }
  if (param.queueStopTimeoutMs < 1) fail("queue_stop_timeout_ms must be at least 1");
  if (2 * param.logFlushIntervalMb > param.maxPendingMb) {
    fail(`log_flush_interval_mb ${param.logFlushIntervalMb} is over max_pending_mb / 2`);
  }
  if (param.nPackBulk < 1) fail("n_pack_bulk must be positive");
  if (param.nIoBulk < 1) fail("n_io_bulk must be positive");
}
