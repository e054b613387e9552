/**
 * Small text forms shared by the servers' `status` and `get` outputs (protocol-and-servers.md
 * §4.2) and the volume id rule (§1.9).
 *
 * @module
 */
import { RequestError } from "../../protocol/errors.ts";

/**
 * The "unit string" of a byte count: divided by 1024 while it stays a non-zero multiple,
 * with the suffix k, m, g, t, p or e.
 *
 * @example
 * ```ts
 * import { unitString } from "./format.ts";
 * if (unitString(1073741824n) !== "1g" || unitString(1536n) !== "1536" || unitString(0n) !== "0") {
 *   throw new Error();
 * }
 * ```
 */
export function unitString(bytes: bigint): string {
  const suffixes = ["", "k", "m", "g", "t", "p", "e"];
  let value = bytes;
  let index = 0;
  while (value !== 0n && value % 1024n === 0n && index < suffixes.length - 1) {
    value /= 1024n;
    index++;
  }
  return `${value}${suffixes[index]}`;
}

/** Volume ids: 1–64 characters of `[0-9A-Za-z-]`. */
export const VOLUME_ID_PATTERN = /^[0-9A-Za-z-]{1,64}$/;

/**
 * Validates a volume id received from a peer.
 *
 * @throws {RequestError} `<context>:bad volume id:<volId>`
 */
export function checkVolumeId(volId: string, context: string): string {
  if (!VOLUME_ID_PATTERN.test(volId)) throw new RequestError(`${context}:bad volume id:${volId}`);
  return volId;
}

/**
 * Parses an unsigned decimal u64 parameter (gids, sizes in LB).
 *
 * @throws {RequestError} `<context>:bad <what>:<text>`
 */
export function parseU64Param(text: string, what: string, context: string): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new RequestError(`${context}:bad ${what}:${text}`);
  const value = BigInt(text);
  if (value > (1n << 64n) - 1n) throw new RequestError(`${context}:bad ${what}:${text}`);
  return value;
}

/**
 * Parses a size with unit suffix k/m/g/t/p/e (powers of 1024, either case) into bytes (§3.2).
 *
 * @throws {RequestError} on bad syntax or overflow
 */
export function parseSizeWithUnit(text: string, context: string): bigint {
  const match = /^([0-9]{1,20})([kKmMgGtTpPeE]?)$/.exec(text);
  if (match === null) throw new RequestError(`${context}:bad size:${text}`);
  const shift = { "": 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n }[
    match[2]!.toLowerCase() as "" | "k"
  ]!;
  const value = BigInt(match[1]!) << shift;
  if (value > (1n << 64n) - 1n) throw new RequestError(`${context}:size overflow:${text}`);
  return value;
}
