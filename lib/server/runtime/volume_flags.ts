/**
 * Per-volume stop flag (protocol-and-servers.md §2.1.7) and action counters (§2.1.8).
 *
 * @module
 */
import type { Clock } from "../../clock.ts";
import { assert } from "../../errors.ts";
import { RequestError } from "../../protocol/errors.ts";

/** Values of the stop flag, as printed by `status` (note the original's `WAitingForEmpty`). */
export type StopState = "NotStopping" | "WAitingForEmpty" | "Stopping" | "ForceStopping";

/** The stop flag: set by compare-and-swap from NotStopping, reset when the stop ends. */
export class StopFlag {
  #state: StopState = "NotStopping";

  get state(): StopState {
    return this.#state;
  }

  /** True unless NotStopping. */
  get isStopping(): boolean {
    return this.#state !== "NotStopping";
  }

  /** True while a force stop runs (long operations abort at their next check). */
  get isForce(): boolean {
    return this.#state === "ForceStopping";
  }

  /**
   * Sets `state` if the flag is NotStopping.
   *
   * @throws {RequestError} `<context>:already under stopping:<volId>` otherwise
   */
  begin(state: Exclude<StopState, "NotStopping">, context: string, volId: string): void {
    if (this.#state !== "NotStopping") {
      throw new RequestError(`${context}:already under stopping:${volId}`);
    }
    this.#state = state;
  }

  /** Back to NotStopping (the stop procedure ended, successfully or not). */
  end(): void {
    this.#state = "NotStopping";
  }

  /**
   * Refuses while stopping.
   *
   * @throws {RequestError} `<context>:stopping:<volId>`
   */
  verifyNotStopping(context: string, volId: string): void {
    if (this.isStopping) throw new RequestError(`${context}:${this.#state}:${volId}`);
  }
}

/** Named counters of running background actions with their last start time. */
export class ActionCounters {
  #counts = new Map<string, number>();
  #startSec = new Map<string, number>();

  constructor(readonly names: readonly string[], readonly clock: Clock) {
    for (const name of names) this.#counts.set(name, 0);
  }

  /** Starts action `name`; returns the function that ends it (call once). */
  start(name: string): () => void {
    const count = this.#counts.get(name);
    assert(count !== undefined, `unknown action ${name}`);
    this.#counts.set(name, count + 1);
    this.#startSec.set(name, Math.floor(this.clock.nowMs() / 1000));
    let ended = false;
    return () => {
      assert(!ended, `action ${name} ended twice`);
      ended = true;
      this.#counts.set(name, this.#counts.get(name)! - 1);
    };
  }

  /** Running count of `name` (undefined for an unknown name). */
  count(name: string): number | undefined {
    return this.#counts.get(name);
  }

  /** Sum over all actions. */
  total(): number {
    let sum = 0;
    for (const count of this.#counts.values()) sum += count;
    return sum;
  }

  /** Unix seconds of the last start of `name`, 0 if never. */
  lastStartSec(name: string): number {
    return this.#startSec.get(name) ?? 0;
  }

  /**
   * Refuses if any of `names` runs.
   *
   * @throws {RequestError} `<context>:there are running actions:<volId>:<name>`
   */
  verifyNotRunning(names: readonly string[], context: string, volId: string): void {
    for (const name of names) {
      if ((this.#counts.get(name) ?? 0) > 0) {
        throw new RequestError(`${context}:there are running action:${volId}:${name}`);
      }
    }
  }
}
