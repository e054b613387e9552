/**
 * The time source every server, client and protocol layer takes as a parameter, so that
 * tests and the simulator can drive time by hand (`lib/testing/clock.ts`). Only this file
 * touches the real timers.
 *
 * @module
 */

/** A source of the current time and of sleeps that can be cancelled. */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin (wall-clock epoch for the real clock). */
  nowMs(): number;
  /**
   * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal`
   * aborts (also when it was already aborted).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The process clock: `Date.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { RealClock } from "./clock.ts";
 * const clock = new RealClock();
 * const before = clock.nowMs();
 * await clock.sleep(1);
 * if (clock.nowMs() < before) throw new Error("time went backwards");
 * ```
 */
export class RealClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** One shared real clock (stateless, so sharing is safe). */
export const realClock: Clock = new RealClock();
