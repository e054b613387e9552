/**
 * Early writeback for large image writes (the archive's full sync, the restore's copy of the
 * base): `fdatasync` calls started without waiting, one at a time, so that the disk writes the
 * image while the next bytes are produced and the final, waited-for sync finds little left.
 *
 * @module
 */

/**
 * One `fdatasync` at a time started without waiting for it (early writeback); its error is
 * thrown by the next {@link tryStart} or {@link settle}. It adds syncs, never replaces one:
 * durability still rests on the awaited syncs.
 */
export class BackgroundSync {
  #running: Promise<void> | undefined;
  #settled = true;

  constructor(readonly sync: () => Promise<void>) {}

  /** Starts a sync unless one is running; true if started. Rethrows a finished one's error. */
  async tryStart(): Promise<boolean> {
    if (!this.#settled) return false;
    const finished = this.#running;
    this.#running = undefined;
    await finished; // settled: rethrows its error, once
    this.#settled = false;
    const running = this.sync();
    running.then(() => this.#settled = true, () => this.#settled = true);
    this.#running = running;
    return true;
  }

  /** Waits for the running sync; rethrows its error. */
  async settle(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running;
  }
}

/**
 * Lets the event loop run once (a message to ourselves, ~8 µs; `setTimeout(0)` waits ~2 ms),
 * so that async ops that have completed, such as a {@link BackgroundSync}'s fdatasync, are
 * settled. Why: code that only awaits synchronous work never returns to the event loop.
 *
 * @returns after one event loop turn
 * @example
 * ```ts
 * import { eventLoopTurn } from "./background_sync.ts";
 * await eventLoopTurn();
 * ```
 */
export function eventLoopTurn(): Promise<void> {
  const channel = new MessageChannel();
  return new Promise<void>((resolve) => {
    channel.port1.onmessage = () => {
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
