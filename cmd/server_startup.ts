/**
 * What the three server commands (`walb storage|proxy|archive`) share at startup and shutdown
 * (protocol-and-servers.md §2.1.2, §2.1.5): the signals that request a forced shutdown.
 *
 * @module
 */

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
