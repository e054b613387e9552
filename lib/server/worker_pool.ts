/**
 * A round-robin pool of module workers answering jobs by id: the shared part of the bulk
 * compressor and decoder pools. Each job's buffer is transferred to its worker.
 *
 * @module
 */
import { assert } from "../errors.ts";

/**
 * `data` itself when it is a whole buffer (it can be transferred), else a copy of the view.
 *
 * @param data bytes only the caller holds
 */
export function transferable(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? data as Uint8Array<ArrayBuffer>
    : data.slice();
}

/** Workers taking `{ id, … }` jobs and answering `{ id, … }` results, one promise per job. */
export class RoundRobinWorkerPool<R extends { id: number }, V> {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve(value: V): void; reject(e: Error): void }>();
  #nextId = 0;
  #nextWorker = 0;
  #settle: (result: R) => V | Error;

  /**
   * @param workerUrl the worker module
   * @param workerCount workers to start (≥ 1)
   * @param settle turns a result into the job's value, or an Error to reject it with
   */
  constructor(workerUrl: string, workerCount: number, settle: (result: R) => V | Error) {
    assert(workerCount >= 1, "at least one worker");
    this.#settle = settle;
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(workerUrl, { type: "module" });
      worker.onmessage = (event: MessageEvent<R>) => this.#answer(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        for (const waiter of this.#pending.values()) waiter.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
    }
  }

  #answer(result: R): void {
    const waiter = this.#pending.get(result.id);
    if (waiter === undefined) return;
    this.#pending.delete(result.id);
    const value = this.#settle(result);
    if (value instanceof Error) waiter.reject(value);
    else waiter.resolve(value);
  }

  /** Sends `job` (given its id here) to the next worker, transferring `buffer`. */
  submit<J extends object>(job: J, buffer: ArrayBuffer): Promise<V> {
    const id = this.#nextId++;
    const worker = this.#workers[this.#nextWorker]!;
    this.#nextWorker = (this.#nextWorker + 1) % this.#workers.length;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id }, [buffer]);
    });
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }
}
