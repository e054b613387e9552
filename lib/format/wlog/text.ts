/**
 * Text forms of wlog structures shared by the tools (offline-tools.md §2 F2–F4).
 *
 * @module
 */
import { lbToPbCount } from "./constants.ts";
import {
  isDiscardRecord,
  isExistRecord,
  isNormalRecord,
  isPaddingRecord,
  type LogpackHeader,
  type LogRecord,
} from "./logpack.ts";

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/** F2: `wlog_p: lsid {lsid:10} total {total:4} n_rec {n:2} n_pad {n:2} csum {csum:08x}`. */
export function formatLogpackHeader(header: LogpackHeader): string {
  return `wlog_p: lsid ${String(header.logpackLsid).padStart(10)} total ${
    String(header.totalIoSize).padStart(4)
  } n_rec ${String(header.nRecords).padStart(2)} n_pad ${
    String(header.nPadding).padStart(2)
  } csum ${hex8(header.checksum)}`;
}

/** F3: `wlog_r: lsid {lsid:10} {local:4} io {offset:10} {size:4} flags {E}{P}{D} csum {csum:08x}`. */
export function formatLogRecord(record: LogRecord): string {
  const padding = isPaddingRecord(record);
  const flags = (isExistRecord(record) ? "E" : "-") + (padding ? "P" : "-") +
    (isDiscardRecord(record) ? "D" : "-");
  const offset = padding ? 0 : record.offset;
  const csum = isNormalRecord(record) ? record.checksum : 0;
  return `wlog_r: lsid ${String(record.lsid).padStart(10)} ${
    String(record.lsidLocal).padStart(4)
  } io ${String(offset).padStart(10)} ${String(record.ioSize).padStart(4)} flags ${flags} csum ${
    hex8(csum)
  }`;
}

/** A pack text: the F2 line then one F3 line per record (no trailing newline). */
export function formatLogpack(header: LogpackHeader): string {
  return [formatLogpackHeader(header), ...header.records.map(formatLogRecord)].join("\n");
}

/** Log statistics of F4, accumulated pack by pack. */
export class WlogStatistics {
  /** lsid the reading started at. */
  beginLsid: bigint;
  /** The bound printed as endLsid. */
  endLsid: bigint;
  /** lsid after the last pack. */
  reallyEndLsid: bigint;
  packCount = 0;
  normalLb = 0;
  discardLb = 0;
  paddingPb = 0;

  constructor(beginLsid: bigint, endLsid: bigint) {
    this.beginLsid = beginLsid;
    this.endLsid = endLsid;
    this.reallyEndLsid = beginLsid;
  }

  /** Adds one pack. */
  add(header: LogpackHeader, pbs: number, nextLsid: bigint): void {
    this.packCount++;
    for (const record of header.records) {
      if (isDiscardRecord(record)) this.discardLb += record.ioSize;
      else if (isPaddingRecord(record)) this.paddingPb += lbToPbCount(record.ioSize, pbs);
      else this.normalLb += record.ioSize;
    }
    this.reallyEndLsid = nextLsid;
  }

  /** The 7 lines of F4 (no trailing newline). */
  format(): string {
    return [
      `bgnLsid ${this.beginLsid}`,
      `endLsid ${this.endLsid}`,
      `reallyEndLsid ${this.reallyEndLsid}`,
      `nrPacks ${this.packCount}`,
      `normalLb ${this.normalLb}`,
      `discardLb ${this.discardLb}`,
      `paddingPb ${this.paddingPb}`,
    ].join("\n");
  }
}
