/**
 * Unix-second timestamps of snapshot metadata and their UTC text forms: `YYYY-MM-DDTHH:MM:SS`
 * in listings and `YYYYMMDDhhmmss` in file names and state texts (wdiff-and-archive.md §8, §11).
 *
 * Timestamps are `number`s (unix seconds, safe integers ≥ 0): the files store them as u64,
 * readers convert through a check, and every real date fits. Date arithmetic is done on
 * civil days, not with `Date`, so every safe value formats.
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";

const SECONDS_PER_DAY = 86400;

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12; day may overflow). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) +
    dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** Calendar fields of days since 1970-01-01. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

function fields(timestamp: number): string[] {
  assert(Number.isSafeInteger(timestamp) && timestamp >= 0, "timestamp is a safe integer >= 0");
  const days = Math.floor(timestamp / SECONDS_PER_DAY);
  const rest = timestamp - days * SECONDS_PER_DAY;
  const [year, month, day] = civilFromDays(days);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return [
    pad(year, 4),
    pad(month),
    pad(day),
    pad(Math.floor(rest / 3600)),
    pad(Math.floor(rest / 60) % 60),
    pad(rest % 60),
  ];
}

/**
 * `YYYY-MM-DDTHH:MM:SS` (UTC), the "pretty" form of listings.
 *
 * @example
 * ```ts
 * import { formatTimestampPretty } from "./timestamp.ts";
 * if (formatTimestampPretty(1388631845) !== "2014-01-02T03:04:05") throw new Error("wrong");
 * ```
 */
export function formatTimestampPretty(timestamp: number): string {
  const [y, mo, d, h, mi, s] = fields(timestamp);
  return `${y}-${mo}-${d}T${h}:${mi}:${s}`;
}

/** The pretty form, or `---` for 0 (unknown), as diff and restorable listings print it. */
export function formatTimestampListing(timestamp: number): string {
  return timestamp === 0 ? "---" : formatTimestampPretty(timestamp);
}

/**
 * `YYYYMMDDhhmmss` (UTC), the form of file names and state texts.
 *
 * @example
 * ```ts
 * import { formatTimestampCompact } from "./timestamp.ts";
 * if (formatTimestampCompact(1388631845) !== "20140102030405") throw new Error("wrong");
 * ```
 */
export function formatTimestampCompact(timestamp: number): string {
  return fields(timestamp).join("");
}

const RANGES: [string, number, number][] = [
  ["year", 1900, 9999],
  ["mon", 1, 12],
  ["mday", 1, 31],
  ["hour", 0, 23],
  ["min", 0, 59],
  ["sec", 0, 60],
];

/**
 * Parses `YYYYMMDDhhmmss` as UTC with the original's range checks (year 1900..9999, month
 * 1..12, day 1..31, hour 0..23, minute 0..59, second 0..60; an overflowing day or second
 * rolls over as timegm does).
 *
 * @param text exactly 14 digits
 * @param offset offset of `text` in its context (a file name), for errors
 * @returns unix seconds
 * @throws {CorruptDataError} "invalid time string.", "mon must be between 1 and 12.", ...;
 *   also for dates before 1970, which a u64 timestamp cannot hold
 * @example
 * ```ts
 * import { parseTimestampCompact } from "./timestamp.ts";
 * if (parseTimestampCompact("20140102030405") !== 1388631845) throw new Error("wrong");
 * ```
 */
export function parseTimestampCompact(text: string, offset = 0): number {
  const what = "time string";
  if (!/^[0-9]{14}$/.test(text)) throw new CorruptDataError(what, offset, "invalid time string.");
  const widths = [4, 2, 2, 2, 2, 2];
  const values: number[] = [];
  let position = 0;
  for (let i = 0; i < widths.length; i++) {
    const value = Number(text.slice(position, position + widths[i]!));
    const [name, min, max] = RANGES[i]!;
    if (value < min || value > max) {
      throw new CorruptDataError(
        what,
        offset + position,
        `${name} must be between ${min} and ${max}.`,
      );
    }
    values.push(value);
    position += widths[i]!;
  }
  const [year, month, day, hour, minute, second] = values as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const timestamp = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 +
    minute * 60 + second;
  if (timestamp < 0) {
    throw new CorruptDataError(what, offset, `time before 1970 is not supported: ${text}`);
  }
  return timestamp;
}
