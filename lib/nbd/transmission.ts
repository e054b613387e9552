/**
 * The transmission phase of one NBD connection, over byte streams: reads requests, runs them
 * on the backend concurrently (bounded per connection) and sends simple replies in
 * completion order, each tagged with its handle.
 *
 * @module
 */
import { assert, CorruptDataError } from "../errors.ts";
import type { ByteSink } from "../io/stream.ts";
import { errnoOf, type NbdBackend, type NbdLogger } from "./backend.ts";
import { BufferPool } from "./buffer_pool.ts";
import { NBD_LIMITS } from "./limits.ts";
import {
  decodeRequest,
  encodeSimpleReply,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EIO,
  type NbdRequest,
  REQUEST_HEADER_SIZE,
  SIMPLE_REPLY_HEADER_SIZE,
  writeSimpleReplyHeader,
} from "./protocol.ts";
import type { NbdReader } from "./reader.ts";
import { ReplyWriter } from "./reply_writer.ts";
import { checkRequest } from "./request_check.ts";

/** Tuning and reporting of a {@link Transmission}. */
export interface TransmissionOptions {
  logger: NbdLogger;
  /** Label of the connection in log lines. */
  label: string;
  /** Requests run at once (default NBD_LIMITS.inFlightMax). */
  inFlightMax?: number;
  /** Payload bytes held at once (default NBD_LIMITS.inFlightBytesMax). */
  inFlightBytesMax?: number;
}

const STOPPED = Symbol("stopped");

/** Largest zero buffer written at once when WRITE_ZEROES becomes plain writes [bytes]. */
const ZERO_CHUNK_SIZE_MAX = 1024 * 1024;

/**
 * Serves requests on one connection until the client disconnects, breaks the protocol, or
 * {@link stop} is called; then waits for the requests in flight to be answered.
 *
 * @example
 * ```ts
 * import { MemorySink, MemorySource } from "../io/stream.ts";
 * import { silentLogger } from "./backend.ts";
 * import { encodeRequest, NBD_CMD_DISC } from "./protocol.ts";
 * import { NbdReader } from "./reader.ts";
 * import { MemoryBackend } from "./testing_backends.ts";
 * import { Transmission } from "./transmission.ts";
 * const disc = encodeRequest({ flags: 0, type: NBD_CMD_DISC, handleHigh: 0, handleLow: 0,
 *   offset: 0, length: 0 });
 * const sink = new MemorySink();
 * await new Transmission(new NbdReader(new MemorySource(disc)), sink, new MemoryBackend(4096),
 *   { logger: silentLogger, label: "example" }).run();
 * if (sink.bytes().length !== 0) throw new Error("DISC has no reply");
 * ```
 */
export class Transmission {
  #reader: NbdReader;
  #writer: ReplyWriter;
  #backend: NbdBackend;
  #logger: NbdLogger;
  #label: string;
  #inFlightMax: number;
  #inFlightBytesMax: number;
  #inFlight = 0;
  #inFlightBytes = 0;
  #wake: (() => void) | null = null;
  #replies = new BufferPool(NBD_LIMITS.bufferPoolBytesMax);
  #payloads = new BufferPool(NBD_LIMITS.bufferPoolBytesMax);
  #stopRequested = false;
  #stopPromise: Promise<typeof STOPPED>;
  #resolveStop!: () => void;
  /** Requests answered (tests and statistics). */
  repliesSent = 0;

  constructor(
    reader: NbdReader,
    sink: ByteSink,
    backend: NbdBackend,
    options: TransmissionOptions,
  ) {
    this.#reader = reader;
    this.#writer = new ReplyWriter(sink);
    this.#backend = backend;
    this.#logger = options.logger;
    this.#label = options.label;
    this.#inFlightMax = options.inFlightMax ?? NBD_LIMITS.inFlightMax;
    this.#inFlightBytesMax = options.inFlightBytesMax ?? NBD_LIMITS.inFlightBytesMax;
    assert(this.#inFlightMax >= 1, "at least one request in flight");
    this.#stopPromise = new Promise((resolve) => {
      this.#resolveStop = () => resolve(STOPPED);
    });
  }

  /** Stops reading requests; {@link run} returns once those in flight are answered. */
  stop(): void {
    this.#stopRequested = true;
    this.#resolveStop();
    this.#notify();
  }

  /**
   * Runs the request loop. Never throws for client behaviour: a broken protocol or a lost
   * connection is logged and ends the loop.
   *
   * @returns why the loop ended
   */
  async run(): Promise<string> {
    let reason = "stopped";
    try {
      reason = await this.#loop();
    } catch (error) {
      if (error instanceof CorruptDataError) {
        reason = "client broke the protocol";
        this.#logger.warn(`${this.#label}: ${reason}`, error);
      } else if (isConnectionError(error)) {
        reason = "connection lost";
        this.#logger.info(`${this.#label}: ${reason}: ${String(error)}`);
      } else {
        throw error;
      }
    } finally {
      this.#writer.flush();
      await this.#waitFor(() => this.#inFlight === 0);
    }
    return reason;
  }

  /**
   * Reads and starts requests. Requests already buffered are handled without waiting, and
   * cached reads are answered on the spot: their replies are queued and go out in one socket
   * write when the loop next waits (for the socket or for room in flight).
   */
  async #loop(): Promise<string> {
    const reader = this.#reader;
    const writer = this.#writer;
    while (!this.#stopRequested) {
      if (!this.#hasRoom()) {
        writer.flush();
        await this.#waitFor(() => this.#hasRoom() || this.#stopRequested);
      }
      if (this.#stopRequested || writer.failed) break;
      const position = reader.position;
      let header = reader.takeBuffered(REQUEST_HEADER_SIZE);
      if (header === null) {
        writer.flush();
        const read = await this.#unlessStopped(
          reader.readExact(REQUEST_HEADER_SIZE, "NBD request header"),
        );
        if (read === STOPPED) break;
        if (read === null) return "client closed the connection";
        header = read;
      }
      const request = decodeRequest(header, 0, position);
      if (request.type === NBD_CMD_DISC) return "client disconnected";
      const errno = checkRequest(request, this.#backend);
      const length = request.length;
      const payloadBytes = request.type === NBD_CMD_WRITE || request.type === NBD_CMD_READ
        ? length
        : 0;
      if (errno !== 0) {
        writer.flush();
        this.#logger.warn(
          `${this.#label}: request type ${request.type} offset ${request.offset} length ` +
            `${length} rejected with error ${errno}`,
        );
        if (request.type === NBD_CMD_WRITE) {
          if (length > NBD_LIMITS.rejectedPayloadSkipMax) {
            await this.#sendNow(encodeSimpleReply(errno, request.handleHigh, request.handleLow));
            return `write payload of ${length} bytes too large to skip`;
          }
          if ((await this.#unlessStopped(reader.skip(length, "NBD write payload"))) === STOPPED) {
            break;
          }
        }
        this.#start(
          0,
          () => Promise.resolve(encodeSimpleReply(errno, request.handleHigh, request.handleLow)),
        );
        continue;
      }
      const fits = () =>
        this.#inFlight === 0 || this.#inFlightBytes + payloadBytes <= this.#inFlightBytesMax;
      if (!fits()) {
        writer.flush();
        await this.#waitFor(fits);
      }
      if (request.type === NBD_CMD_WRITE) {
        // A buffer the backend lends is its own again once passed to write: never pooled here.
        const lent = this.#backend.takeWriteBuffer?.(length);
        const reusable = lent === undefined && this.#backend.reusesWriteData === true;
        const data = lent ?? (reusable ? this.#payloads.take(length) : new Uint8Array(length));
        const buffered = reader.takeBuffered(length);
        if (buffered !== null) {
          data.set(buffered);
        } else {
          writer.flush();
          if (
            (await this.#unlessStopped(reader.readInto(data, "NBD write payload"))) === STOPPED
          ) {
            break;
          }
        }
        if (!reusable) {
          this.#start(payloadBytes, () => this.#execute(request, data));
          continue;
        }
        this.#start(payloadBytes, async () => {
          try {
            return await this.#execute(request, data);
          } finally {
            this.#payloads.give(data);
          }
        });
      } else if (request.type === NBD_CMD_READ) {
        const reply = this.#replies.take(SIMPLE_REPLY_HEADER_SIZE + length);
        if (!this.#tryReadSync(request, reply)) {
          this.#start(payloadBytes, () => this.#read(request, reply));
        }
      } else {
        this.#start(payloadBytes, () => this.#execute(request, null));
      }
    }
    writer.flush();
    return "stopped";
  }

  #hasRoom(): boolean {
    return this.#inFlight < this.#inFlightMax;
  }

  /**
   * Answers a read from data the backend has at hand: the reply is queued (sent at the next
   * flush) and holds its in-flight slot until written. False when the backend cannot.
   */
  #tryReadSync(request: NbdRequest, reply: Uint8Array): boolean {
    const backend = this.#backend;
    if (backend.tryReadSync === undefined) return false;
    const { handleHigh, handleLow, offset, length } = request;
    if (!backend.tryReadSync(offset, reply.subarray(SIMPLE_REPLY_HEADER_SIZE))) return false;
    writeSimpleReplyHeader(reply, 0, 0, handleHigh, handleLow);
    this.#inFlight++;
    this.#inFlightBytes += length;
    this.#writer.enqueue(reply).then(
      () => {
        this.repliesSent++;
        this.#replies.give(reply);
      },
      (error: unknown) => {
        if (!isConnectionError(error)) this.#logger.error(`${this.#label}: reply failed`, error);
      },
    ).finally(() => {
      this.#inFlight--;
      this.#inFlightBytes -= length;
      this.#notify();
    });
    return true;
  }

  /** Starts one request in the background; its slot is released after its reply is sent. */
  #start(payloadBytes: number, work: () => Promise<Uint8Array>): void {
    this.#inFlight++;
    this.#inFlightBytes += payloadBytes;
    let sent: Uint8Array | undefined;
    work()
      .then((reply) => {
        sent = reply;
        return this.#writer.send(reply);
      })
      .then(
        () => {
          this.repliesSent++;
          // Read replies come from the pool (error replies are small and new).
          if (sent !== undefined && sent.length > SIMPLE_REPLY_HEADER_SIZE) {
            this.#replies.give(sent);
          }
        },
        (error: unknown) => {
          if (!isConnectionError(error)) this.#logger.error(`${this.#label}: reply failed`, error);
        },
      )
      .finally(() => {
        this.#inFlight--;
        this.#inFlightBytes -= payloadBytes;
        this.#notify();
      });
  }

  /** Runs a checked request on the backend; resolves to the whole reply. */
  async #execute(request: NbdRequest, data: Uint8Array | null): Promise<Uint8Array> {
    const { handleHigh, handleLow, offset, length } = request;
    const fua = (request.flags & NBD_CMD_FLAG_FUA) !== 0;
    const backend = this.#backend;
    try {
      switch (request.type) {
        case NBD_CMD_READ:
          return await this.#read(request, this.#replies.take(SIMPLE_REPLY_HEADER_SIZE + length));
        case NBD_CMD_WRITE:
          assert(data !== null, "write has its payload");
          await backend.write(offset, data, { fua });
          break;
        case NBD_CMD_FLUSH:
          await backend.flush();
          break;
        case NBD_CMD_TRIM:
          await backend.trim(offset, length, { fua });
          break;
        case NBD_CMD_WRITE_ZEROES: {
          const noHole = (request.flags & NBD_CMD_FLAG_NO_HOLE) !== 0;
          await this.#writeZeroes(offset, length, fua, noHole);
          break;
        }
        default:
          assert(false, `checked request has a known type, got ${request.type}`);
      }
      return encodeSimpleReply(0, handleHigh, handleLow);
    } catch (error) {
      return this.#failed(request, error);
    }
  }

  /** Logs a failed request; returns its error reply. */
  #failed(request: NbdRequest, error: unknown): Uint8Array {
    const errno = errnoOf(error);
    this.#logger.warn(
      `${this.#label}: request type ${request.type} offset ${request.offset} length ` +
        `${request.length} failed with error ${errno}`,
      error,
    );
    return encodeSimpleReply(errno, request.handleHigh, request.handleLow);
  }

  /**
   * Runs a read into `reply` (header + payload, from the pool); resolves to `reply`, or to a
   * new error reply when the backend fails.
   */
  async #read(request: NbdRequest, reply: Uint8Array): Promise<Uint8Array> {
    const { handleHigh, handleLow, offset, length } = request;
    writeSimpleReplyHeader(reply, 0, 0, handleHigh, handleLow);
    const backend = this.#backend;
    try {
      if (backend.readInto !== undefined) {
        await backend.readInto(offset, reply.subarray(SIMPLE_REPLY_HEADER_SIZE));
        return reply;
      }
      const data = await backend.read(offset, length);
      if (data.length !== length) {
        this.#logger.error(
          `${this.#label}: backend read returned ${data.length} of ${length} bytes`,
        );
        return encodeSimpleReply(NBD_EIO, handleHigh, handleLow);
      }
      reply.set(data, SIMPLE_REPLY_HEADER_SIZE);
      return reply;
    } catch (error) {
      return this.#failed(request, error);
    }
  }

  async #writeZeroes(offset: number, length: number, fua: boolean, noHole: boolean) {
    const backend = this.#backend;
    if (backend.writeZeroes !== undefined) {
      await backend.writeZeroes(offset, length, { fua, noHole });
      return;
    }
    const chunkMax = Math.min(ZERO_CHUNK_SIZE_MAX, backend.blockSizes.maximum);
    for (let done = 0; done < length;) {
      const size = Math.min(chunkMax, length - done);
      const last = done + size === length;
      await backend.write(offset + done, new Uint8Array(size), { fua: fua && last });
      done += size;
    }
    if (fua && length === 0) await backend.flush();
  }

  async #sendNow(reply: Uint8Array): Promise<void> {
    try {
      await this.#writer.send(reply);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #unlessStopped<T>(promise: Promise<T>): Promise<T | typeof STOPPED> {
    // The abandoned read rejects when the connection closes; that is expected.
    promise.catch(() => {});
    return Promise.race([promise, this.#stopPromise]);
  }
}

/** Errors that mean the peer went away (not a bug here). */
export function isConnectionError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}
