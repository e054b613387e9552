/**
 * What the three server commands (`walb storage|proxy|archive`) share at startup and shutdown
 * (protocol-and-servers.md §2.1.2, §2.1.5): the options every server declares, the log file,
 * the listening address, the startup log records and the signals that request a forced
 * shutdown.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { UsageError } from "../lib/errors.ts";
import { DenoNet, type Listener, type NetAddr } from "../lib/net.ts";
import { formatVersionDescription } from "../lib/protocol/builtin.ts";
import { LineLogger } from "../lib/server/runtime/mod.ts";
import type { OptionParser, OptionValue, ParsedOptions } from "./option.ts";

/** The version description every server reports (the `version` command's LTSV text). */
export const SERVER_VERSION_DESCRIPTION: string = formatVersionDescription({
  version: "1.0.19",
  buildDate: "2018-10-31T00:00:00",
});

/**
 * Declares `-p` and `-l`, the first two options of every server (their order is the `-h`
 * order of the original).
 *
 * @param parser the server's option parser
 */
export function declareListenOptions(parser: OptionParser): void {
  parser.option("p", "u16", ": port to listen", { default: "5000" });
  parser.option("l", "string", ": log file name.", { default: "-" });
}

/**
 * Declares `-maxconn` and `-fg`, which every server declares one after the other.
 *
 * @param parser the server's option parser
 */
export function declareTaskOptions(parser: OptionParser): void {
  parser.option("maxconn", "u32", ": num of max connections.", { default: "10" });
  parser.option("fg", "u32", ": num of max concurrent foregroud tasks.", { default: "2" });
}

/**
 * Declares `-allow-exec` and the keep-alive options, the last options of every server.
 *
 * @param parser the server's option parser
 */
export function declareKeepAliveOptions(parser: OptionParser): void {
  parser.flag("allow-exec", ": Allow exec command for test.");
  parser.flag("ka", ": enable keep-alive.");
  parser.option("kaidle", "u32", ": keep-alive idle [sec].", { default: "1800" });
  parser.option("kaintvl", "u32", ": keep-alive interval [sec].", { default: "60" });
  parser.option("kacnt", "u32", ": keep-alive count.", { default: "10" });
}

/**
 * Checks the keep-alive options against the original's ranges (idle ≤ 86400 s, interval ≤
 * 3600 s, count ≤ 100).
 *
 * @param options the parsed options
 * @throws {UsageError} a keep-alive option is out of range
 */
export function checkKeepAliveOptions(options: ParsedOptions): void {
  if (
    options.num("kaidle") > 86400 || options.num("kaintvl") > 3600 || options.num("kacnt") > 100
  ) {
    throw new UsageError("keep-alive parameter out of range");
  }
}

/**
 * The keep-alive line of the server's status (`keepAlive ON (idle … intvl … cnt …)` or
 * `keepAlive OFF`).
 *
 * @param options the parsed options
 * @returns the status text
 */
export function formatKeepAliveStatus(options: ParsedOptions): string {
  return options.bool("ka")
    ? `keepAlive ON (idle ${options.num("kaidle")} intvl ${options.num("kaintvl")} cnt ${
      options.num("kacnt")
    })`
    : "keepAlive OFF";
}

/**
 * Whether `path` is an existing directory.
 *
 * @param path the path to test
 * @returns false when nothing is there or it is not a directory
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A server's logger and the log file it writes to, if any. */
export interface ServerLog {
  logger: LineLogger;
  /** Closes the log file (nothing when logging to stderr). */
  close(): void;
}

/**
 * Opens the server's logger: stderr for `-l -`, else the `-l` file (relative to `baseDir`),
 * appended to; `-debug` enables debug records.
 *
 * @param options the parsed options
 * @param baseDir the server's base directory
 * @returns the logger and its closer
 */
export async function openServerLog(options: ParsedOptions, baseDir: string): Promise<ServerLog> {
  const logPath = options.str("l");
  const encoder = new TextEncoder();
  let logFile: Deno.FsFile | undefined;
  if (logPath !== "-") {
    const path = logPath.startsWith("/") ? logPath : `${baseDir}/${logPath}`;
    logFile = await Deno.open(path, { append: true, create: true });
  }
  const sink = logFile ?? Deno.stderr;
  const logger = new LineLogger(
    realClock,
    (line) => sink.writeSync(encoder.encode(line + "\n")),
    options.bool("debug"),
  );
  return { logger, close: () => logFile?.close() };
}

/**
 * Makes the server's network (keep-alive per `-ka`) and picks its listening address on port
 * `-p`: `::` (dual-stack), or `0.0.0.0` without IPv6. The port is probed by listening once, so
 * a busy port fails here, before the startup records.
 *
 * @param options the parsed options
 * @returns the network and the address to listen on
 */
export function openServerNet(options: ParsedOptions): { net: DenoNet; listen: NetAddr } {
  const net = new DenoNet({ clock: realClock, keepAlive: options.bool("ka") });
  const port = options.num("p");
  for (const hostname of ["::", "0.0.0.0"]) {
    let probe: Listener;
    try {
      probe = net.listen({ hostname, port });
    } catch (error) {
      if (hostname === "0.0.0.0") throw error;
      continue;
    }
    probe.close();
    return { net, listen: { hostname, port } };
  }
  throw new Error("unreachable");
}

/**
 * Runs a server until it shuts down; every shutdown signal requests a forced shutdown. Then
 * removes the signal listeners and closes the log.
 *
 * @param server how to run the server and request its forced shutdown
 * @param log the server's log, closed at the end
 */
export async function runUntilShutdown(
  server: { run(): Promise<void>; requestShutdown(): void },
  log: ServerLog,
): Promise<void> {
  const stopListening = listenShutdownSignals(() => server.requestShutdown());
  try {
    await server.run();
  } finally {
    stopListening();
    log.close();
  }
}

/**
 * The signals that set a forced shutdown (§2.1.5): SIGINT, SIGQUIT, SIGABRT and SIGTERM.
 * SIGABRT is included because the original handles it like the other three; an external
 * `kill -ABRT` then shuts the server down cleanly (exit status 0) instead of aborting it.
 */
export const SHUTDOWN_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGQUIT", "SIGABRT", "SIGTERM"];

/**
 * Calls `onSignal` on every shutdown signal until the returned function is called.
 *
 * @param onSignal called once per received signal
 * @returns a function that removes the listeners
 */
export function listenShutdownSignals(onSignal: () => void): () => void {
  for (const signal of SHUTDOWN_SIGNALS) Deno.addSignalListener(signal, onSignal);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) Deno.removeSignalListener(signal, onSignal);
  };
}

/** Where {@link logStartup} writes (a server logger). */
export interface StartupLogger {
  log(level: "INFO", message: string): void;
}

/**
 * Formats every option value, one `-name=value` line each in declaration order (flags as
 * `true`/`false`, lists space-separated): the option dump of the startup log (§2.1.2 step 3).
 *
 * @param entries the parsed options ({@link ParsedOptions.entries})
 * @returns the lines joined with newlines (one log record)
 * @example
 * ```ts
 * import { formatOptionDump } from "./server_startup.ts";
 * const text = formatOptionDump([["p", 5000], ["debug", false], ["archive", ["a0"]]]);
 * if (text !== "-p=5000\n-debug=false\n-archive=a0") throw new Error(text);
 * ```
 */
export function formatOptionDump(
  entries: readonly (readonly [string, OptionValue | OptionValue[] | boolean])[],
): string {
  return entries.map(([name, value]) =>
    `-${name}=${Array.isArray(value) ? value.join(" ") : String(value)}`
  ).join("\n");
}

/**
 * Logs the startup records of §2.1.2 step 3: `starting walb <role> server`, the version
 * description (the `version` command's LTSV text) and every option value (an `options:` line,
 * then {@link formatOptionDump}).
 *
 * @param logger the server's logger
 * @param init role, version description and parsed options
 */
export function logStartup(
  logger: StartupLogger,
  init: { role: string; versionDescription: string; options: ParsedOptions },
): void {
  logger.log("INFO", `starting walb ${init.role} server`);
  logger.log("INFO", init.versionDescription);
  logger.log("INFO", `options:\n${formatOptionDump(init.options.entries())}`);
}
