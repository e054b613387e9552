/**
 * A level-triggered wake-up for the engine's loops and waiters: `changed()` resolves at the
 * next `notify()`. Waiters re-check their condition after every wake-up, and the check and
 * the registration happen in one synchronous step, so no wake-up is lost.
 *
 * @module
 */

/**
 * @example
 * ```ts
 * import { ChangeSignal } from "./change_signal.ts";
 * const signal = new ChangeSignal();
 * let state = 0;
 * const waiting = (async () => { while (state === 0) await signal.changed(); })();
 * state = 1;
 * signal.notify();
 * await waiting;
 * ```
 */
export class ChangeSignal {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** Resolves at the next {@link notify}. */
  changed(): Promise<void> {
    if (this.#promise === undefined) {
      this.#promise = new Promise((resolve) => {
        this.#resolve = resolve;
      });
    }
    return this.#promise;
  }

  /** Wakes every current waiter. */
  notify(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
