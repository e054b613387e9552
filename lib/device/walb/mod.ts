/**
 * The userland WalB device (device-and-wlog.md §5, §9): {@link formatLdev} prepares an ldev,
 * {@link WalbEngine} logs block writes into logpacks on it and applies them to a ddev with
 * the kernel driver's lsid semantics. Reading the log back: {@link readLogRange}.
 *
 * @module
 */
export { WalbEngineError, type WalbErrorCode } from "./errors.ts";
export {
  type EngineClock,
  type WalbEngineEvent,
  type WalbEngineOptions,
} from "./engine_options.ts";
export { type FreezeState, WalbEngine } from "./engine.ts";
export { cryptoRandom, formatLdev, type FormatLdevOptions, type RandomFill } from "./format.ts";
export { LdevRing, type LsidRun, readSuperSector, writeSuperSector } from "./ldev.ts";
export {
  type LdevIo,
  type LdevPackRead,
  type LogRangeEnd,
  readLogpackAt,
  readLogpackHeaderAt,
  readLogRange,
} from "./log_reader.ts";
export { checkLsidInvariants, type LsidSet } from "./lsid_state.ts";
export { redoLog, type RedoResult } from "./redo.ts";
export { WALB_ENGINE_LIMITS } from "./limits.ts";
