/**
 * Server log records (protocol-and-servers.md §4.1): `YYYY-MM-DD HH:MM:SS.mmm LEVEL MESSAGE`
 * in UTC. Servers log through an injected {@link ServerLogger}; `cmd/` writes the lines to
 * stderr or the `-l` file, tests keep them in memory.
 *
 * @module
 */
import type { Clock } from "../../clock.ts";

/** Log levels of the original (cybozulib logger). */
export type ServerLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** Where a server's log records go. */
export interface ServerLogger {
  log(level: ServerLogLevel, message: string): void;
}

/**
 * One log line (no newline).
 *
 * @example
 * ```ts
 * import { formatLogLine } from "./logger.ts";
 * const line = formatLogLine(1540947723456, "INFO", "run:Ready to accept connections");
 * if (line !== "2018-10-31 01:02:03.456 INFO run:Ready to accept connections") throw new Error(line);
 * ```
 */
export function formatLogLine(nowMs: number, level: ServerLogLevel, message: string): string {
  const time = new Date(nowMs).toISOString().replace("T", " ").slice(0, 23);
  return `${time} ${level} ${message}`;
}

/**
 * The `[selfId][peerId] ` prefix of connection-related messages. The peer id comes from the
 * wire: control characters and non-ASCII are written as `\xNN` / `\u{N}` so that a peer
 * cannot forge log lines or garble the log.
 *
 * @example
 * ```ts
 * import { connectionPrefix } from "./logger.ts";
 * if (connectionPrefix("a0", "x\ny") !== "[a0][x\\x0ay] ") throw new Error();
 * ```
 */
export function connectionPrefix(selfId: string, peerId: string): string {
  return `[${selfId}][${printable(peerId)}] `;
}

/** `text` with control characters and non-ASCII escaped (for text that came from a peer). */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (char) => {
    const code = char.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/** A logger writing formatted lines to a callback (a file, stderr), filtering DEBUG. */
export class LineLogger implements ServerLogger {
  constructor(
    readonly clock: Clock,
    readonly writeLine: (line: string) => void,
    readonly debugEnabled = false,
  ) {}

  log(level: ServerLogLevel, message: string): void {
    if (level === "DEBUG" && !this.debugEnabled) return;
    this.writeLine(formatLogLine(this.clock.nowMs(), level, message));
  }
}

/** A logger keeping records in memory (tests). */
export class MemoryLogger implements ServerLogger {
  readonly records: { level: ServerLogLevel; message: string }[] = [];

  log(level: ServerLogLevel, message: string): void {
    this.records.push({ level, message });
  }

  /** True if some record's message contains `fragment`. */
  has(fragment: string, level?: ServerLogLevel): boolean {
    return this.records.some((r) =>
      r.message.includes(fragment) && (level === undefined || r.level === level)
    );
  }
}

/** A logger that drops everything. */
export const NULL_LOGGER: ServerLogger = { log() {} };
