/**
 * Delayed task queue and its dispatcher (protocol-and-servers.md §2.1.9), for storage
 * (key = volume id) and proxy (key = volume id + archive name). Time comes from a Clock.
 *
 * @module
 */
import type { Clock } from "../../clock.ts";
import { assert } from "../../errors.ts";

interface Entry<T> {
  key: string;
  task: T;
  dueMs: number;
  sequence: number;
}

/** A queued task as `status` shows it. */
export interface QueuedTask<T> {
  key: string;
  task: T;
  /** Remaining delay in ms (negative = overdue). */
  remainingMs: number;
}

/**
 * Tasks keyed by identity, each with a due time.
 *
 * @example
 * ```ts
 * import { DelayedTaskQueue } from "./task_queue.ts";
 * import { ManualClock } from "../../testing/clock.ts";
 * const clock = new ManualClock();
 * const queue = new DelayedTaskQueue<string>(clock);
 * queue.push("vol0", "vol0", 1000);
 * if (queue.popDue() !== undefined) throw new Error("not due yet");
 * await clock.advance(1000);
 * if (queue.popDue()?.key !== "vol0") throw new Error("due");
 * ```
 */
export class DelayedTaskQueue<T> {
  #entries = new Map<string, Entry<T>>();
  #sequence = 0;
  #wake: (() => void) | undefined;

  constructor(readonly clock: Clock) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Queues `task` due in `delayMs` unless `key` is already queued (keeps the earlier schedule). */
  push(key: string, task: T, delayMs = 0): void {
    if (this.#entries.has(key)) return;
    this.pushForce(key, task, delayMs);
  }

  /** Queues or reschedules `key` to now + `delayMs`. */
  pushForce(key: string, task: T, delayMs = 0): void {
    assert(delayMs >= 0, "delay >= 0");
    this.#entries.set(key, {
      key,
      task,
      dueMs: this.clock.nowMs() + delayMs,
      sequence: this.#sequence++,
    });
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Removes `key`; returns false if it was not queued. */
  remove(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Removes every task whose key satisfies `match`. */
  removeIf(match: (key: string, task: T) => boolean): void {
    for (const [key, entry] of this.#entries) if (match(key, entry.task)) this.#entries.delete(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The queued tasks in due order. */
  list(): QueuedTask<T>[] {
    const now = this.clock.nowMs();
    return this.#sorted().map((e) => ({ key: e.key, task: e.task, remainingMs: e.dueMs - now }));
  }

  /** Pops the earliest due task, or undefined if none is due. */
  popDue(): { key: string; task: T } | undefined {
    const first = this.#sorted()[0];
    if (first === undefined || first.dueMs > this.clock.nowMs()) return undefined;
    this.#entries.delete(first.key);
    return { key: first.key, task: first.task };
  }

  /**
   * Waits until a task is due (or `signal` aborts), then pops it.
   *
   * @returns the task, or undefined when aborted
   */
  async popWait(signal: AbortSignal): Promise<{ key: string; task: T } | undefined> {
    while (!signal.aborted) {
      const due = this.popDue();
      if (due !== undefined) return due;
      const first = this.#sorted()[0];
      const waitMs = first === undefined ? 1000 : Math.max(0, first.dueMs - this.clock.nowMs());
      const woken = new Promise<void>((resolve) => this.#wake = resolve);
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await Promise.race([woken, this.clock.sleep(waitMs, abort.signal).catch(() => {})]);
      } finally {
        abort.abort();
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
      }
    }
    return undefined;
  }

  #sorted(): Entry<T>[] {
    return [...this.#entries.values()].sort((a, b) => a.dueMs - b.dueMs || a.sequence - b.sequence);
  }
}

/** Options of {@link runDispatcher}. */
export interface DispatcherOptions<T> {
  queue: DelayedTaskQueue<T>;
  clock: Clock;
  /** Pool size (`-bg`). */
  workerCount: number;
  run(key: string, task: T): Promise<void>;
  /** Told about a task that failed (it is not requeued here; the task decides). */
  onError(key: string, error: unknown): void;
  signal: AbortSignal;
}

/**
 * Pops due tasks and runs them in a pool of `workerCount`; when the pool is full it waits
 * 1 s and retries (the original's behaviour). Resolves after `signal` aborts and every
 * running task ended.
 */
export async function runDispatcher<T>(options: DispatcherOptions<T>): Promise<void> {
  const running = new Set<Promise<void>>();
  while (!options.signal.aborted) {
    if (running.size >= options.workerCount) {
      await Promise.race([...running, options.clock.sleep(1000, options.signal).catch(() => {})]);
      continue;
    }
    const item = await options.queue.popWait(options.signal);
    if (item === undefined) break;
    const job = options.run(item.key, item.task).catch((error) => options.onError(item.key, error))
      .finally(() => running.delete(job));
    running.add(job);
  }
  await Promise.all(running);
}
