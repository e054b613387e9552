/**
 * The WalB driver's sysfs text (device-and-wlog.md §6.5): the `lsids` file, parsed as
 * walb-tools' `getLsidSet` does and formatted exactly as the driver prints it, so a userland
 * device can expose the same text and one parser serves both. Pure: no I/O.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";

/** The lsid set of a WalB device (§5.1), in pb units. */
export interface LsidSet {
  latest: bigint;
  completed: bigint;
  flush: bigint;
  permanent: bigint;
  written: bigint;
  prevWritten: bigint;
  oldest: bigint;
  /** Accepted when present; this driver version does not print it. */
  submitted?: bigint;
}

/** sysfs line names in the driver's order, with their {@link LsidSet} keys. */
const LSID_LINES = [
  ["latest", "latest"],
  ["completed", "completed"],
  ["flush", "flush"],
  ["permanent", "permanent"],
  ["written", "written"],
  ["prev_written", "prevWritten"],
  ["oldest", "oldest"],
] as const;

/** Column width of the name in each `lsids` line (left-justified, space padded). */
const LSID_NAME_WIDTH = 13;

const U64_MAX = 0xffffffffffffffffn;

/**
 * Formats an lsid set as the driver's `lsids` file: seven lines, each name padded to 13
 * columns, then the decimal value.
 *
 * @example
 * ```ts
 * import { formatLsids } from "./sysfs.ts";
 * const text = formatLsids({
 *   latest: 9n, completed: 9n, flush: 9n, permanent: 9n, written: 8n, prevWritten: 8n, oldest: 0n,
 * });
 * if (!text.startsWith("latest       9\n")) throw new Error(text);
 * ```
 */
export function formatLsids(lsids: LsidSet): string {
  return LSID_LINES.map(([name, key]) => `${name.padEnd(LSID_NAME_WIDTH)}${lsids[key]}\n`).join("");
}

/**
 * Parses `lsids` text as walb-tools does: lines split on CR/LF, tokens on spaces and tabs
 * (empty tokens dropped), exactly two tokens per non-empty line, unknown names ignored (and
 * reported through `onUnknown`), an optional `submitted` line, and all seven names required.
 *
 * @param text the file content
 * @param options `onUnknown(name)` is called for each ignored line name
 * @returns the lsid set
 * @throws {CorruptDataError} on a malformed line, a value that is not a decimal u64, or a
 *   missing name
 */
export function parseLsids(
  text: string,
  options: { onUnknown?: (name: string) => void } = {},
): LsidSet {
  const values = new Map<string, bigint>();
  let offset = 0;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const tokens = line.split(/[ \t]+/).filter((token) => token !== "");
    if (tokens.length > 0) {
      if (tokens.length !== 2) {
        throw new CorruptDataError("sysfs lsids", offset, `line "${line}" is not "name value"`);
      }
      const [name, value] = tokens as [string, string];
      if (!/^[0-9]+$/.test(value) || BigInt(value) > U64_MAX) {
        throw new CorruptDataError(
          "sysfs lsids",
          offset,
          `value of ${name} is not a u64: ${value}`,
        );
      }
      if (name === "submitted" || LSID_LINES.some(([known]) => known === name)) {
        values.set(name, BigInt(value));
      } else {
        options.onUnknown?.(name);
      }
    }
    offset += line.length + 1;
  }
  const missing = LSID_LINES.filter(([name]) => !values.has(name)).map(([name]) => name);
  if (missing.length > 0) {
    throw new CorruptDataError("sysfs lsids", -1, `missing ${missing.join(", ")}`);
  }
  const lsids = Object.fromEntries(
    LSID_LINES.map(([name, key]) => [key, values.get(name)!]),
  ) as unknown as LsidSet;
  const submitted = values.get("submitted");
  if (submitted !== undefined) lsids.submitted = submitted;
  return lsids;
}

/** `/sys/block/walb!NAME/walb/`: the per-device attribute directory (`/` becomes `!`). */
export function walbSysfsDir(name: string): string {
  return `/sys/block/walb!${name.replaceAll("/", "!")}/walb/`;
}
