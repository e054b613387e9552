/**
 * The process-wide foreground-task limit `-fg` (protocol-and-servers.md §2.1.4).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { RequestError } from "../../protocol/errors.ts";

/** Counter of running foreground tasks with a maximum. */
export class ForegroundLimiter {
  #running = 0;

  constructor(readonly max: number) {
    assert(Number.isSafeInteger(max) && max >= 1, "foreground task limit >= 1");
  }

  get running(): number {
    return this.#running;
  }

  /**
   * Takes one slot; returns its release function.
   *
   * @throws {RequestError} `<context>:exceeds max foreground tasks:<max>` when full
   */
  acquire(context: string): () => void {
    if (this.#running >= this.max) {
      throw new RequestError(`${context}:exceeds max foreground tasks:${this.max}`);
    }
    this.#running++;
    let released = false;
    return () => {
      assert(!released, "foreground slot released twice");
      released = true;
      this.#running--;
    };
  }
}
