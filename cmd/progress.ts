/**
 * `--progress` of the long-running offline tools (an extension, docs/tools.md): one line on
 * stderr rewritten in place (`\r` + text, at most five times a second, a newline at the end)
 * with the bytes done, the total and percent when known, MB/s and the elapsed time. It is drawn
 * only when `--progress` is given and stderr is a terminal, so pipes and log files never see
 * it. Library code never prints: tools count bytes with {@link countingSource} /
 * {@link countingSink} or a library callback and call {@link Progress.add}.
 *
 * @module
 */
import type { ByteSink, ByteSource } from "../lib/io/stream.ts";
import type { OptionParser } from "./option.ts";

/** The option name as registered (typed `--progress`). */
export const PROGRESS_OPTION = "-progress";

/** Help text of `--progress` in the generated usage layout. */
export const PROGRESS_HELP = ": show progress on stderr (TTY only).";

/**
 * Registers `--progress` on `parser`; call it last so the original lines keep their order.
 *
 * @param parser the tool's option parser
 * @returns the parser
 */
export function addProgressOption(parser: OptionParser): OptionParser {
  return parser.flag(PROGRESS_OPTION, PROGRESS_HELP);
}

/**
 * Appends the `--progress` help line to a fixed usage text, before its trailing blank lines.
 *
 * @param usage the original usage text (ends with a newline)
 * @param line the help line without indentation or newline
 * @returns the usage with the line added after its last non-empty line
 * @example
 * ```ts
 * import { usageWithProgress } from "./progress.ts";
 * const text = usageWithProgress("Usage: x\n  -h : help\n\n", "--progress : p");
 * if (text !== "Usage: x\n  -h : help\n  --progress : p\n\n") throw new Error(text);
 * ```
 */
export function usageWithProgress(usage: string, line: string): string {
  const body = usage.replace(/\n+$/, "");
  return `${body}\n  ${line}${usage.slice(body.length)}`;
}

/** What the progress line is drawn on: a terminal with synchronous writes (Deno.stderr). */
export interface TerminalSink {
  isTerminal(): boolean;
  writeSync(bytes: Uint8Array): number;
}

/** A monotonic clock in milliseconds (injectable for tests). */
export type NowMs = () => number;

/** Counts work done; a no-op when progress is not shown. */
export interface Progress {
  /** Adds `bytes` to the bytes done (redraws at most every {@link PROGRESS_INTERVAL_MS}). */
  add(bytes: number): void;
  /** Sets the total when it becomes known. */
  setTotal(totalBytes: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
  /** Erases the line (before a log line is printed); the next update draws it again. */
  clear(): void;
}

/** Least time between two redraws [ms]: five updates a second. */
export const PROGRESS_INTERVAL_MS = 200;

const encoder = new TextEncoder();

/** Does nothing: `--progress` not given, or stderr is not a terminal. */
const NO_PROGRESS: Progress = { add() {}, setTotal() {}, finish() {}, clear() {} };

function isTerminalSink(value: unknown): value is TerminalSink {
  const sink = value as Partial<TerminalSink> | null;
  return typeof sink?.isTerminal === "function" && typeof sink.writeSync === "function";
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** Total bytes, when known (file size, `-z`). */
  totalBytes?: number | undefined;
  /** Clock (default `performance.now`). */
  nowMs?: NowMs;
}

/**
 * A progress line on `stderr` when `enabled` and `stderr` is a terminal, else a no-op.
 *
 * @param enabled `--progress` was given
 * @param stderr the command's stderr (a {@link TerminalSink} such as Deno.stderr to draw)
 * @param options total bytes and clock
 * @returns the progress counter
 * @example
 * ```ts
 * import { startProgress } from "./progress.ts";
 * let text = "";
 * const tty = { isTerminal: () => true, writeSync: (b: Uint8Array) => (text += new TextDecoder().decode(b), b.length) };
 * let now = 0;
 * const progress = startProgress(true, tty, { totalBytes: 4e6, nowMs: () => now });
 * now = 1000;
 * progress.add(2e6);
 * progress.finish();
 * if (!text.includes("2.0/4.0 MB (50%) 2.0 MB/s 1.0 s")) throw new Error(text);
 * ```
 */
export function startProgress(
  enabled: boolean,
  stderr: unknown,
  options: ProgressOptions = {},
): Progress {
  if (!enabled || !isTerminalSink(stderr) || !stderr.isTerminal()) return NO_PROGRESS;
  return new ProgressLine(stderr, options);
}

/** The drawn progress line (see {@link startProgress}). */
export class ProgressLine implements Progress {
  #sink: TerminalSink;
  #nowMs: NowMs;
  #startMs: number;
  #lastDrawMs: number;
  #doneBytes = 0;
  #totalBytes: number | undefined;
  #drawnLength = 0;
  #finished = false;

  constructor(sink: TerminalSink, options: ProgressOptions = {}) {
    this.#sink = sink;
    this.#nowMs = options.nowMs ?? (() => performance.now());
    this.#startMs = this.#nowMs();
    this.#lastDrawMs = this.#startMs;
    this.#totalBytes = options.totalBytes;
  }

  add(bytes: number): void {
    this.#doneBytes += bytes;
    const now = this.#nowMs();
    if (now - this.#lastDrawMs >= PROGRESS_INTERVAL_MS) this.#draw(now);
  }

  setTotal(totalBytes: number): void {
    this.#totalBytes = totalBytes;
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#draw(this.#nowMs());
    this.#write("\n");
  }

  clear(): void {
    if (this.#finished || this.#drawnLength === 0) return;
    this.#write(`\r${" ".repeat(this.#drawnLength)}\r`);
    this.#drawnLength = 0;
  }

  #draw(now: number): void {
    this.#lastDrawMs = now;
    const text = formatProgress(this.#doneBytes, this.#totalBytes, now - this.#startMs);
    // Spaces erase the rest of a longer previous line (no terminal escapes needed).
    const padding = " ".repeat(Math.max(0, this.#drawnLength - text.length));
    this.#drawnLength = text.length;
    this.#write(`\r${text}${padding}`);
  }

  #write(text: string): void {
    const bytes = encoder.encode(text);
    let done = 0;
    while (done < bytes.length) done += this.#sink.writeSync(bytes.subarray(done));
  }
}

/**
 * The text of one progress line: `done/total MB (pct%) rate MB/s elapsed s`.
 *
 * @param doneBytes bytes done
 * @param totalBytes total bytes, or undefined when unknown
 * @param elapsedMs time since the start
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * if (formatProgress(5e5, undefined, 500) !== "0.5 MB 1.0 MB/s 0.5 s") throw new Error();
 * ```
 */
export function formatProgress(
  doneBytes: number,
  totalBytes: number | undefined,
  elapsedMs: number,
): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? doneBytes / 1e6 / seconds : 0;
  let text = mb(doneBytes);
  if (totalBytes !== undefined && totalBytes > 0) {
    const percent = Math.min(100, Math.floor(doneBytes * 100 / totalBytes));
    text += `/${mb(totalBytes)} MB (${percent}%)`;
  } else {
    text += " MB";
  }
  return `${text} ${rate.toFixed(1)} MB/s ${seconds.toFixed(1)} s`;
}

/**
 * `source` with every byte read added to `progress`.
 *
 * @param source the input
 * @param progress the counter
 */
export function countingSource(source: ByteSource, progress: Progress): ByteSource {
  if (progress === NO_PROGRESS) return source;
  return {
    read: async (p) => {
      const count = await source.read(p);
      if (count !== null) progress.add(count);
      return count;
    },
  };
}

/**
 * `sink` with every byte written added to `progress`.
 *
 * @param sink the output
 * @param progress the counter
 */
export function countingSink(sink: ByteSink, progress: Progress): ByteSink {
  if (progress === NO_PROGRESS) return sink;
  return {
    write: async (p) => {
      const count = await sink.write(p);
      progress.add(count);
      return count;
    },
  };
}

/**
 * The size of a regular file or block device at `path`, or undefined (stdin, pipes, errors).
 *
 * @param path a path or `-`
 */
export async function inputSizeOf(path: string): Promise<number | undefined> {
  if (path === "-") return undefined;
  try {
    const stat = await Deno.stat(path);
    if (stat.isFile) return stat.size;
    if (!stat.isBlockDevice) return undefined;
    using file = await Deno.open(path, { read: true });
    return await file.seek(0, Deno.SeekMode.End);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    throw error;
  }
}
