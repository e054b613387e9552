/**
 * The polling loop under every controller wait (controller-api.md §13): read, test, sleep
 * the poll interval on the injected clock, until the test holds or the time is up.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { WaitTimeoutError } from "./errors.ts";

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** The clock to sleep on. */
  clock: Clock;
  /** What is waited for, for the timeout error. */
  what: string;
  /** Time allowed. */
  timeoutMs: number;
  /** Pause between reads. */
  intervalMs: number;
  /** Text of the last value for the timeout error. */
  show?: (value: unknown) => string;
}

/**
 * Calls `read` until `done` holds for its value; the first read happens at once.
 *
 * @example
 * ```ts
 * import { pollUntil } from "./wait.ts";
 * import { realClock } from "../clock.ts";
 * let n = 0;
 * const value = await pollUntil(async () => ++n, (v) => v >= 3, {
 *   clock: realClock,
 *   what: "three",
 *   timeoutMs: 1000,
 *   intervalMs: 1,
 * });
 * if (value !== 3) throw new Error();
 * ```
 * @returns the value that satisfied `done`
 * @throws {WaitTimeoutError} when `timeoutMs` passes first (with the last value seen);
 *   errors of `read` propagate at once
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: PollOptions,
): Promise<T> {
  const deadlineMs = options.clock.nowMs() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (options.clock.nowMs() >= deadlineMs) {
      const show = options.show ?? ((v: unknown) => String(v));
      throw new WaitTimeoutError(options.what, options.timeoutMs, show(value));
    }
    await options.clock.sleep(options.intervalMs);
  }
}
