/**
 * What the three server commands (`walb storage|proxy|archive`) share at startup and shutdown
 * (protocol-and-servers.md §2.1.2, §2.1.5): the startup log records and the signals that
 * request a forced shutdown.
 *
 * @module
 */
import type { OptionValue, ParsedOptions } from "./option.ts";

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
