/**
 * A clock that only moves when a test says so. Sleeps resolve in deadline order (ties in
 * the order they were started) as {@link ManualClock.advance} passes their deadline.
 *
 * @module
 */
import type { Clock } from "../clock.ts";

interface Sleeper {
  deadlineMs: number;
  sequence: number;
  resolve: () => void;
}

/**
 * Manual test clock.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock(1000);
 * let woke = false;
 * const sleeping = clock.sleep(50).then(() => { woke = true; });
 * await clock.advance(49);
 * if (woke) throw new Error("too early");
 * await clock.advance(1);
 * await sleeping;
 * if (!woke || clock.nowMs() !== 1050) throw new Error("wrong");
 * ```
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #sleepers: Sleeper[] = [];
  #sequence = 0;

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper: Sleeper = {
        deadlineMs: this.#nowMs + Math.max(0, ms),
        sequence: this.#sequence++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Number of sleeps not yet resolved nor aborted. */
  get pendingCount(): number {
    return this.#sleepers.length;
  }

  /**
   * Moves time forward by `ms`, waking every sleep whose deadline is passed, one at a time
   * in deadline order, letting the woken code run (macrotask turn) before the next one.
   */
  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.deadlineMs > targetMs) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      this.#nowMs = Math.max(this.#nowMs, next.deadlineMs);
      next.resolve();
      await settle();
    }
    this.#nowMs = targetMs;
  }

  /** Advances to the earliest pending deadline (if any) and wakes what is due. */
  async advanceToNext(): Promise<boolean> {
    const next = this.#earliest();
    if (next === undefined) return false;
    await this.advance(Math.max(0, next.deadlineMs - this.#nowMs));
    return true;
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (
        best === undefined || s.deadlineMs < best.deadlineMs ||
        (s.deadlineMs === best.deadlineMs && s.sequence < best.sequence)
      ) best = s;
    }
    return best;
  }
}

/** Lets pending promise reactions and I/O callbacks run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
