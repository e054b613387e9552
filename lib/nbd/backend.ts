/**
 * What the NBD server serves: one export behind {@link NbdBackend}, and the
 * {@link NbdLogger} it reports through. The WalB userland device implements the backend;
 * `testing_backends.ts` has memory and file ones.
 *
 * @module
 */
import type { BlockSizes } from "./protocol.ts";
import { NBD_EIO } from "./protocol.ts";

export type { BlockSizes };

/** Options of a write-like request. */
export interface WriteOptions {
  /** Force unit access: the data must be durable when the promise resolves. */
  fua: boolean;
}

/** Options of a write-zeroes request. */
export interface WriteZeroesOptions extends WriteOptions {
  /** The client asked that the range stay allocated (no hole punched). */
  noHole: boolean;
}

/**
 * One NBD export. The server checks every request before calling it: ranges lie inside
 * `sizeBytes`, READ/WRITE lengths are at most `blockSizes.maximum`, offsets and lengths are
 * multiples of `blockSizes.minimum`, and a read-only backend gets no writes. Calls may run
 * concurrently (several in flight per connection, several connections).
 */
export interface NbdBackend {
  /** Export size [bytes]; read at each handshake and request, so it may grow. */
  readonly sizeBytes: number;
  /** Block size constraints advertised with NBD_INFO_BLOCK_SIZE and enforced. */
  readonly blockSizes: BlockSizes;
  readonly readOnly: boolean;
  /** Advertise NBD_FLAG_SEND_TRIM. */
  readonly canTrim: boolean;
  /**
   * Advertise NBD_FLAG_SEND_WRITE_ZEROES. Without {@link writeZeroes} the server turns the
   * request into writes of zero bytes (what the WalB device wants: plain data in the log).
   */
  readonly canWriteZeroes: boolean;
  /**
   * Advertise NBD_FLAG_CAN_MULTI_CONN: a flush on any connection covers writes completed on
   * every connection. Absent means false.
   */
  readonly canMultiConn?: boolean;
  /** Returns exactly `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional zero-copy read: fills all of `target` with the bytes at `offset`. The server then
   * reads straight into its reply buffer.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional synchronous read of data at hand (cached): fills all of `target` and returns
   * true, or returns false and the server calls {@link readInto} / {@link read}, which report
   * any error. Lets the server answer a burst of cached reads with one socket write.
   */
  tryReadSync?(offset: number, target: Uint8Array): boolean;
  /**
   * True when the backend is done with a write's `data` once {@link write} settles (it copies
   * what it keeps): the server then reuses payload buffers. Absent means false.
   */
  readonly reusesWriteData?: boolean;
  /**
   * Optional: a buffer of `length` bytes for a WRITE's payload, or undefined (the server
   * then uses its own). The server reads the payload into it and passes it to {@link write}
   * once, never touching it afterwards (whatever {@link reusesWriteData} says); a buffer it
   * drops (the connection ended mid-payload) is left to the garbage collector. Lets a backend
   * keep big payloads in memory of its choosing without a copy.
   */
  takeWriteBuffer?(length: number): Uint8Array | undefined;
  /**
   * Writes `data` at `offset`. Unless {@link reusesWriteData}, the server never touches
   * `data` again, so the backend may keep it without copying.
   */
  write(offset: number, data: Uint8Array, options: WriteOptions): Promise<void>;
  /** Makes every write completed before the call durable. */
  flush(): Promise<void>;
  /** Discards a range (contents afterwards unspecified). */
  trim(offset: number, length: number, options: WriteOptions): Promise<void>;
  /** Optional native zeroing; see {@link canWriteZeroes}. */
  writeZeroes?(offset: number, length: number, options: WriteZeroesOptions): Promise<void>;
}

/**
 * An I/O error with the NBD error value to send (NBD_EIO, NBD_ENOSPC, ...). Backends throw
 * it to choose the value; any other error becomes NBD_EIO and is logged.
 */
export class NbdIoError extends Error {
  constructor(readonly errno: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NbdIoError";
  }
}

/** The NBD error value for an error thrown by a backend. */
export function errnoOf(error: unknown): number {
  return error instanceof NbdIoError ? error.errno : NBD_EIO;
}

/** Where the server reports what happens (library code never prints). */
export interface NbdLogger {
  /** Connections opening and closing. */
  info(message: string): void;
  /** A client misbehaved or a request failed; the server keeps going. */
  warn(message: string, error?: unknown): void;
  /** Something in this process failed (a backend bug, a listener error). */
  error(message: string, error?: unknown): void;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: NbdLogger = {
  info() {},
  warn() {},
  error() {},
};

/** A logger that records every line in memory (tests). */
export class MemoryLogger implements NbdLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string, error?: unknown): void {
    this.lines.push(`warn: ${message}${error === undefined ? "" : `: ${String(error)}`}`);
  }
  error(message: string, error?: unknown): void {
    this.lines.push(`error: ${message}${error === undefined ? "" : `: ${String(error)}`}`);
  }
}
