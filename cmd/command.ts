/**
 * The subcommand contract and the shared runner of the offline tools: log lines on stderr in
 * the original format, buffered text on stdout, and one clear error line (no stack trace)
 * with exit status 1 when a tool fails (offline-tools.md §1.3–1.4).
 *
 * @module
 */
import { AssertionError } from "../lib/errors.ts";
import { type ByteSink, type ByteSource, writeAll } from "../lib/io/stream.ts";
import { HelpRequested, OptionError } from "./option.ts";

/** Standard streams given to a command (tests pass in-memory ones). */
export interface CommandIo {
  stdin: ByteSource;
  stdout: ByteSink;
  stderr: ByteSink;
}

/** One subcommand of the walb binary. */
export interface Command {
  /** Name as typed: `walb <name>`. */
  name: string;
  /** One line for `walb --help`. */
  summary: string;
  /** Runs the command; resolves to the exit status. */
  run(args: string[], io: CommandIo): Promise<number>;
}

/** The process's own streams. */
export function processIo(): CommandIo {
  return { stdin: Deno.stdin, stdout: Deno.stdout, stderr: Deno.stderr };
}

const encoder = new TextEncoder();

/** Ordered asynchronous text output with a synchronous API; {@link flush} at the end. */
export class TextOut {
  #sink: ByteSink;
  #pending: string[] = [];
  #pendingSize = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Queues `text` as is. */
  write(text: string): void {
    this.#pending.push(text);
    this.#pendingSize += text.length;
    if (this.#pendingSize > 1 << 16) this.#startFlush();
  }

  /** Queues `text` and a newline. */
  line(text: string): void {
    this.write(text + "\n");
  }

  #startFlush(): void {
    if (this.#pending.length === 0) return;
    const bytes = encoder.encode(this.#pending.join(""));
    this.#pending = [];
    this.#pendingSize = 0;
    this.#chain = this.#chain.then(() => writeAll(this.#sink, bytes));
  }

  /** Writes everything queued. */
  async flush(): Promise<void> {
    this.#startFlush();
    await this.#chain;
  }
}

/** Log levels, as printed. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC. */
export function logTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").slice(0, 23);
}

/** Log lines on stderr: `{YYYY-MM-DD HH:MM:SS.mmm} {LEVEL} {message}`, UTC. */
export class Logger {
  /** DEBUG lines are printed only when true (`-debug`). */
  debugEnabled = false;
  #out: TextOut;
  #now: () => Date;

  constructor(sink: ByteSink, now: () => Date = () => new Date()) {
    this.#out = new TextOut(sink);
    this.#now = now;
  }

  /** Writes one line at `level`. */
  write(level: LogLevel, message: string): void {
    if (level === "DEBUG" && !this.debugEnabled) return;
    this.#out.line(`${logTimestamp(this.#now())} ${level} ${message}`);
    // Log lines are rare: send each at once so long runs show them promptly.
    void this.#out.flush();
  }
  debug(message: string): void {
    this.write("DEBUG", message);
  }
  info(message: string): void {
    this.write("INFO", message);
  }
  warn(message: string): void {
    this.write("WARNING", message);
  }
  error(message: string): void {
    this.write("ERROR", message);
  }
  /** Raw text on stderr, no prefix (progress dots, messages the original prints bare). */
  raw(text: string): void {
    this.#out.write(text);
    void this.#out.flush();
  }
  /** Waits until everything logged is written. */
  flush(): Promise<void> {
    return this.#out.flush();
  }
}

/** What {@link runTool} hands to a tool body. */
export interface ToolContext {
  log: Logger;
  out: TextOut;
  io: CommandIo;
}

/**
 * Runs a tool body with the original tools' conventions: `-h` prints the usage (exit 0);
 * an option error prints `OptionError:...` and the usage on stdout (exit 1); any other
 * failure prints `{ts} ERROR {tool}:{message}` on stderr (exit 1). AssertionError (a bug)
 * propagates to cmd/main.ts.
 */
export async function runTool(
  tool: string,
  io: CommandIo,
  body: (context: ToolContext) => Promise<number>,
): Promise<number> {
  const log = new Logger(io.stderr);
  const out = new TextOut(io.stdout);
  let code: number;
  try {
    code = await body({ log, out, io });
  } catch (error) {
    if (error instanceof HelpRequested) {
      out.write(error.usage);
      code = 0;
    } else if (error instanceof OptionError) {
      out.line(`OptionError:${error.message}`);
      out.write(error.usage);
      code = 1;
    } else if (error instanceof AssertionError || !(error instanceof Error)) {
      await out.flush().catch(() => {});
      await log.flush().catch(() => {});
      throw error;
    } else {
      log.error(`${tool}:${errorText(error)}`);
      code = 1;
    }
  }
  try {
    await out.flush();
  } catch (error) {
    // The reader went away (e.g. `| head`): nothing more to say to it.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
  await log.flush();
  return code;
}

/** The message of an error, with its causes appended (`a: b: c`). */
export function errorText(error: Error): string {
  let text = error.message;
  let cause = error.cause;
  while (cause instanceof Error) {
    if (!text.includes(cause.message)) text += `: ${cause.message}`;
    cause = cause.cause;
  }
  return text;
}
