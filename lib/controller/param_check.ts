/**
 * walbc's local checks of command parameters before connecting (protocol-and-servers.md
 * §3.2, the per-command list at the end of §3.3, and the `get` targets of table 3.4). The
 * parameters are sent verbatim afterwards; these checks only refuse.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseCompressOpt } from "../codec/mod.ts";
import { parseHostPort } from "../net.ts";
import { getTargetType } from "../protocol/get.ts";
import { UINT64_MAX } from "./values.ts";
import { ARCHIVE_ACTIONS } from "./archive_commands.ts";

/** Volume id: 1–64 characters of `[0-9A-Za-z-]`. */
const VOLUME_ID_PATTERN = /^[0-9A-Za-z-]{1,64}$/;

/** Smallest and largest bulk size of backups and replication (§3.2). */
export const BULK_SIZE_MIN = 512n;
/** Largest bulk size (4 MiB). */
export const BULK_SIZE_MAX = 4n << 20n;

/**
 * Checks a volume id.
 * @throws {UsageError} `bad volume id:<text>`
 */
export function checkVolumeId(text: string | undefined): string {
  if (text === undefined) throw new UsageError("volume id not specified");
  if (!VOLUME_ID_PATTERN.test(text)) throw new UsageError(`bad volume id:${text}`);
  return text;
}

/**
 * An unsigned decimal u64 (gids, lsids, counts).
 *
 * @throws {UsageError} `bad <what>:<text>`
 */
export function checkU64(text: string | undefined, what: string): bigint {
  if (text === undefined) throw new UsageError(`${what} not specified`);
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) {
    throw new UsageError(`bad ${what}:${text}`);
  }
  return BigInt(text);
}

/**
 * A size in bytes with an optional suffix k/m/g/t/p/e (powers of 1024, either case).
 *
 * @example
 * ```ts
 * import { parseSizeUnit } from "./param_check.ts";
 * if (parseSizeUnit("64K") !== 65536n || parseSizeUnit("1g") !== 1073741824n) throw new Error();
 * ```
 * @throws {UsageError} on bad syntax or overflow
 */
export function parseSizeUnit(text: string): bigint {
  const match = /^([0-9]{1,20})([kKmMgGtTpPeE]?)$/.exec(text);
  if (match === null) throw new UsageError(`bad size:${text}`);
  const unit = match[2]!.toLowerCase();
  const shift = unit === "" ? 0 : "kmgtpe".indexOf(unit) + 1;
  const value = BigInt(match[1]!) << BigInt(shift * 10);
  if (value > UINT64_MAX) throw new UsageError(`size overflow:${text}`);
  return value;
}

/**
 * A bulk size: a size with unit within 512 B .. 4 MiB.
 *
 * @throws {UsageError} out of range
 */
export function checkBulkSize(text: string): bigint {
  const size = parseSizeUnit(text);
  if (size < BULK_SIZE_MIN || size > BULK_SIZE_MAX) throw new UsageError(`bad bulk size:${text}`);
  return size;
}

function checkCount(params: readonly string[], min: number, max: number, what: string): void {
  if (params.length < min) throw new UsageError(`${what}:too few params:${params.length}`);
  if (params.length > max) throw new UsageError(`${what}:too many params:${params.length}`);
}

/** Checks of the args after a `get` target: count range, then per-arg checks. */
interface TargetCheck {
  min: number;
  max: number;
  check?: (args: readonly string[]) => void;
}

const volOnly = (args: readonly string[]) => void checkVolumeId(args[0]);
const volGids = (args: readonly string[]) => {
  checkVolumeId(args[0]);
  args.slice(1).forEach((gid) => checkU64(gid, "gid"));
};

const TARGET_CHECKS: Readonly<Record<string, TargetCheck>> = {
  "state": { min: 1, max: 1, check: volOnly },
  "host-type": { min: 0, max: 0 },
  "vol": { min: 0, max: 0 },
  "pid": { min: 0, max: 0 },
  "latest-snap": { min: 0, max: 1, check: (a) => a.length === 0 || volOnly(a) },
  "handler-stat": { min: 0, max: 0 },
  "is-overflow": { min: 1, max: 1, check: volOnly },
  "log-usage": { min: 0, max: 1, check: (a) => a.length === 0 || volOnly(a) },
  "uuid": { min: 1, max: 1, check: volOnly },
  "ts-delta": { min: 0, max: 0 },
  "is-wdiff-send-error": { min: 2, max: 2, check: volOnly },
  "proxy-diff": { min: 1, max: 2, check: volOnly },
  "num-action": {
    min: 2,
    max: 2,
    check: (a) => {
      checkVolumeId(a[0]);
      if (!(ARCHIVE_ACTIONS as readonly string[]).includes(a[1]!)) {
        throw new UsageError(`bad action:${a[1]}`);
      }
    },
  },
  "diff": { min: 1, max: 3, check: checkGidRange },
  "applicable-diff": { min: 1, max: 2, check: volGids },
  "total-diff-size": { min: 1, max: 3, check: checkGidRange },
  "num-diff": { min: 1, max: 3, check: checkGidRange },
  "exists-diff": { min: 5, max: 5, check: volGids },
  "exists-base-image": { min: 1, max: 1, check: volOnly },
  "restored": { min: 1, max: 1, check: volOnly },
  "restored-path": { min: 2, max: 2, check: volGids },
  "cold": { min: 1, max: 1, check: volOnly },
  "restorable": {
    min: 1,
    max: 2,
    check: (a) => {
      checkVolumeId(a[0]);
      if (a[1] !== undefined && a[1] !== "all") throw new UsageError(`bad option:${a[1]}`);
    },
  },
  "archive-uuid": { min: 1, max: 1, check: volOnly },
  "base": { min: 1, max: 1, check: volOnly },
  "base-all": { min: 0, max: 0 },
  "vol-size": { min: 1, max: 1, check: volOnly },
  "progress": { min: 1, max: 1, check: volOnly },
  "volume-group": { min: 0, max: 0 },
  "thinpool": { min: 0, max: 0 },
  "all-actions": { min: 0, max: 0 },
  "meta-snap": { min: 1, max: 2, check: volGids },
  "meta-state": {
    min: 2,
    max: 3,
    check: (a) => {
      checkVolumeId(a[0]);
      if (a[1] !== "0" && a[1] !== "1") throw new UsageError(`bad isApplying:${a[1]}`);
      if (a[2] !== undefined) checkU64(a[2], "gid");
    },
  },
};

function checkGidRange(args: readonly string[]): void {
  checkVolumeId(args[0]);
  const gid0 = args[1] === undefined ? 0n : checkU64(args[1], "gid0");
  const gid1 = args[2] === undefined ? UINT64_MAX : checkU64(args[2], "gid1");
  if (gid0 >= gid1) throw new UsageError(`bad gid range:${gid0}:${gid1}`);
}

/**
 * Checks `get TARGET ARGS...`.
 *
 * @throws {UsageError} for an unknown target or bad arguments
 */
export function checkGetParams(params: readonly string[]): void {
  const [target, ...args] = params;
  if (target === undefined) throw new UsageError("get:no target specified");
  getTargetType(target);
  const check = TARGET_CHECKS[target];
  if (check === undefined) return;
  checkCount(args, check.min, check.max, `get ${target}`);
  check.check?.(args);
}

/** Checks `ADDR:PORT` words of replicate and archive-info. */
export function checkHostPort(text: string | undefined): void {
  if (text === undefined) throw new UsageError("address not specified");
  parseHostPort(text);
}

/** Checks `TYPE:LEVEL:NCPU`. */
export function checkCompressOpt(text: string): void {
  parseCompressOpt(text);
}

/** Checks a `0`/`1` flag word. */
export function checkBoolWord(text: string | undefined, what: string): void {
  if (text !== undefined && text !== "0" && text !== "1") {
    throw new UsageError(`bad ${what}:${text}`);
  }
}
