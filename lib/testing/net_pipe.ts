/**
 * An in-memory, full-duplex connection pair for protocol tests: what one end writes the
 * other reads, with half-close (FIN), full close, optional back-pressure and a record of
 * every byte each end wrote.
 *
 * @module
 */
import type { Conn } from "../protocol/conn.ts";

/** Options of {@link netPipe}. */
export interface NetPipeOptions {
  /**
   * Bytes one direction buffers before `write` waits for the reader (like a socket send
   * buffer). Infinity (the default) never blocks.
   */
  capacityBytes?: number;
}

interface Direction {
  chunks: Uint8Array[];
  bufferedBytes: number;
  /** Writer shut down (FIN): reads drain the buffer then return null. */
  finished: boolean;
  /** Reader closed: further writes fail (EPIPE). */
  readerClosed: boolean;
  waitingReader: (() => void) | undefined;
  waitingWriter: (() => void) | undefined;
  written: Uint8Array[];
}

function newDirection(): Direction {
  return {
    chunks: [],
    bufferedBytes: 0,
    finished: false,
    readerClosed: false,
    waitingReader: undefined,
    waitingWriter: undefined,
    written: [],
  };
}

function wake(waiter: (() => void) | undefined): void {
  waiter?.();
}

/** One end of a {@link netPipe}. */
export class PipeEnd implements Conn {
  #inbound: Direction;
  #outbound: Direction;
  #capacityBytes: number;
  #closed = false;

  constructor(inbound: Direction, outbound: Direction, capacityBytes: number) {
    this.#inbound = inbound;
    this.#outbound = outbound;
    this.#capacityBytes = capacityBytes;
  }

  async read(p: Uint8Array): Promise<number | null> {
    const inbound = this.#inbound;
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("pipe end is closed");
      if (p.length === 0) return 0;
      const head = inbound.chunks[0];
      if (head !== undefined) {
        const n = Math.min(p.length, head.length);
        p.set(head.subarray(0, n));
        if (n === head.length) inbound.chunks.shift();
        else inbound.chunks[0] = head.subarray(n);
        inbound.bufferedBytes -= n;
        const writer = inbound.waitingWriter;
        inbound.waitingWriter = undefined;
        wake(writer);
        return n;
      }
      if (inbound.finished) return null;
      await new Promise<void>((resolve) => {
        inbound.waitingReader = resolve;
      });
    }
  }

  async write(p: Uint8Array): Promise<number> {
    const outbound = this.#outbound;
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("pipe end is closed");
      if (outbound.finished) throw new Deno.errors.BrokenPipe("write side is shut down");
      if (outbound.readerClosed) throw new Deno.errors.ConnectionReset("peer closed");
      if (p.length === 0) return 0;
      const room = this.#capacityBytes - outbound.bufferedBytes;
      if (room > 0) {
        const n = Math.min(room, p.length);
        const copy = p.slice(0, n);
        outbound.chunks.push(copy);
        outbound.written.push(copy);
        outbound.bufferedBytes += n;
        const reader = outbound.waitingReader;
        outbound.waitingReader = undefined;
        wake(reader);
        return n;
      }
      await new Promise<void>((resolve) => {
        outbound.waitingWriter = resolve;
      });
    }
  }

  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("pipe end is closed"));
    this.#shutdownWrite();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("pipe end is closed");
    this.#closed = true;
    this.#shutdownWrite();
    const inbound = this.#inbound;
    inbound.readerClosed = true;
    inbound.chunks = [];
    inbound.bufferedBytes = 0;
    const reader = inbound.waitingReader;
    inbound.waitingReader = undefined;
    wake(reader);
    const writer = inbound.waitingWriter;
    inbound.waitingWriter = undefined;
    wake(writer);
  }

  #shutdownWrite(): void {
    const outbound = this.#outbound;
    outbound.finished = true;
    const reader = outbound.waitingReader;
    outbound.waitingReader = undefined;
    wake(reader);
    const writer = outbound.waitingWriter;
    outbound.waitingWriter = undefined;
    wake(writer);
  }

  /** True once {@link close} was called on this end. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** True once this end shut down writing (closeWrite or close). */
  get isWriteShutdown(): boolean {
    return this.#outbound.finished;
  }

  /** Every byte this end has written so far, concatenated. */
  writtenBytes(): Uint8Array {
    return concatBytes(this.#outbound.written);
  }
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Makes a connected pair: `[client, server]`.
 *
 * @example
 * ```ts
 * import { netPipe } from "./net_pipe.ts";
 * const [client, server] = netPipe();
 * await client.write(Uint8Array.of(1, 2));
 * await client.closeWrite();
 * const p = new Uint8Array(4);
 * if (await server.read(p) !== 2 || await server.read(p) !== null) throw new Error("wrong");
 * ```
 */
export function netPipe(options: NetPipeOptions = {}): [PipeEnd, PipeEnd] {
  const capacityBytes = options.capacityBytes ?? Infinity;
  const clientToServer = newDirection();
  const serverToClient = newDirection();
  return [
    new PipeEnd(serverToClient, clientToServer, capacityBytes),
    new PipeEnd(clientToServer, serverToClient, capacityBytes),
  ];
}
