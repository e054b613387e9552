/**
 * Minimal byte-stream interfaces and buffered adapters. Deno.FsFile, Deno.stdin and
 * Deno.stdout satisfy {@link ByteSource} / {@link ByteSink}; tests use in-memory ones.
 *
 * @module
 */
import { CorruptDataError } from "../errors.ts";

/** Something to read bytes from (Deno.FsFile, Deno.stdin, a socket). */
export interface ByteSource {
  /**
   * Reads up to `p.length` bytes into `p` (Deno.Reader semantics: a short read is normal).
   *
   * @returns bytes read, or null at the end of the stream
   */
  read(p: Uint8Array): Promise<number | null>;
}

/** Something to write bytes to (Deno.FsFile, Deno.stdout, a socket). */
export interface ByteSink {
  /**
   * Writes some bytes of `p` (Deno.Writer semantics: may write fewer; see {@link writeAll}).
   *
   * @returns bytes written
   */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes every byte of `bytes` to `sink`, looping over short writes (pipes and sockets
 * accept partial buffers).
 *
 * @param sink where to write
 * @param bytes what to write
 * @throws whatever `sink.write` throws (e.g. Deno.errors.BrokenPipe)
 * @example
 * ```ts
 * import { MemorySink, writeAll } from "./stream.ts";
 * const sink = new MemorySink();
 * await writeAll(sink, Uint8Array.of(1, 2, 3));
 * if (sink.bytes().length !== 3) throw new Error("wrong");
 * ```
 */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const written = await sink.write(bytes.subarray(offset));
    // A sink that accepts nothing would loop forever: report it as a broken sink.
    if (written <= 0) throw new Deno.errors.WriteZero(`sink accepted no byte at ${offset}`);
    offset += written;
  }
}

/**
 * Buffered sequential reader with exact-length reads and a byte position.
 *
 * @example
 * ```ts
 * import { BufferedReader, MemorySource } from "./stream.ts";
 * const reader = new BufferedReader(new MemorySource(Uint8Array.of(1, 2, 3)));
 * const two = await reader.readExact(2, "example");
 * if (two?.length !== 2 || reader.position !== 2) throw new Error("wrong");
 * ```
 */
export class BufferedReader {
  #source: ByteSource;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;
  /** Bytes consumed so far by readExact/skip. */
  position = 0;

  /**
   * Wraps `source`; the buffer grows past `bufferSize` when one readExact asks for more, so
   * callers check lengths read from input against their limits first.
   *
   * @param source the stream to read; not closed by this reader
   * @param bufferSize initial buffer size in bytes (default 1 MiB)
   */
  constructor(source: ByteSource, bufferSize = 1 << 20) {
    this.#source = source;
    this.#buffer = new Uint8Array(bufferSize);
  }

  /** Current buffer size in bytes (a {@link readExact} of more grows it). */
  get bufferSize(): number {
    return this.#buffer.length;
  }

  /** Fills the buffer until `n` bytes are available or EOF; returns the available count. */
  async #fill(n: number): Promise<number> {
    if (this.#end - this.#start >= n || this.#eof) return this.#end - this.#start;
    if (n > this.#buffer.length) {
      const bigger = new Uint8Array(Math.max(n, this.#buffer.length * 2));
      bigger.set(this.#buffer.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = bigger;
    } else if (this.#start + n > this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < n) {
      const count = await this.#source.read(this.#buffer.subarray(this.#end));
      if (count === null || count === 0) {
        this.#eof = true;
        break;
      }
      this.#end += count;
    }
    return this.#end - this.#start;
  }

  /**
   * Reads exactly `n` bytes. Returns null at a clean EOF (no byte left).
   * The returned view is valid until the next call; copy it to keep it.
   *
   * @throws {CorruptDataError} when the stream ends inside the `n` bytes
   */
  async readExact(n: number, what: string): Promise<Uint8Array | null> {
    const available = await this.#fill(n);
    if (available === 0 && n > 0) return null;
    if (available < n) {
      throw new CorruptDataError(
        what,
        this.position,
        `stream ends after ${available} of ${n} bytes`,
      );
    }
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    this.position += n;
    return view;
  }

  /** Like {@link readExact}, but EOF before any byte is also an error. */
  async readRequired(n: number, what: string): Promise<Uint8Array> {
    const bytes = await this.readExact(n, what);
    if (bytes === null) {
      throw new CorruptDataError(what, this.position, `stream ends, ${n} bytes expected`);
    }
    return bytes;
  }

  /**
   * Reads exactly `target.length` bytes into `target`: what is buffered is copied, and a large
   * rest goes from the source straight into `target`. Why: the wdiff and wlog readers keep the
   * bytes they read (pack payloads, IO data); {@link readExact} then a copy moved every byte
   * twice and grew the buffer to the largest pack (32 MiB).
   *
   * @param target where the bytes go (its length is the count)
   * @param what names the bytes in errors
   * @throws {CorruptDataError} when the stream ends first, as {@link readRequired} does
   * @example
   * ```ts
   * import { BufferedReader, MemorySource } from "./stream.ts";
   * const reader = new BufferedReader(new MemorySource(Uint8Array.of(1, 2, 3)), 2);
   * const target = new Uint8Array(3);
   * await reader.readExactInto(target, "example");
   * if (target[2] !== 3 || reader.position !== 3) throw new Error("wrong");
   * ```
   */
  async readExactInto(target: Uint8Array, what: string): Promise<void> {
    const n = target.length;
    let done = Math.min(n, this.#end - this.#start);
    target.set(this.#buffer.subarray(this.#start, this.#start + done));
    this.#start += done;
    while (done < n) {
      const rest = n - done;
      let count: number | null;
      if (rest < DIRECT_READ_SIZE_MIN) {
        // A small rest: fill the buffer, which also brings what the caller reads next.
        count = Math.min(rest, await this.#fill(rest));
        target.set(this.#buffer.subarray(this.#start, this.#start + count), done);
        this.#start += count;
      } else {
        count = this.#eof ? null : await this.#source.read(target.subarray(done));
        if (count === null || count === 0) this.#eof = true;
      }
      if (count === null || count === 0) {
        throw new CorruptDataError(
          what,
          this.position,
          done === 0
            ? `stream ends, ${n} bytes expected`
            : `stream ends after ${done} of ${n} bytes`,
        );
      }
      done += count;
    }
    this.position += n;
  }

  /** True when no byte is left. */
  async atEof(): Promise<boolean> {
    return (await this.#fill(1)) === 0;
  }
}

/** Rest sizes that {@link BufferedReader.readExactInto} reads straight into the target. */
const DIRECT_READ_SIZE_MIN = 64 * 1024;

/** Buffered writer that counts bytes written. Call {@link flush} at the end. */
export class BufferedWriter {
  #sink: ByteSink;
  #buffer: Uint8Array;
  #length = 0;
  /** Bytes accepted so far. */
  position = 0;

  /**
   * Wraps `sink`; writes reach it when the buffer fills or on {@link flush}.
   *
   * @param sink where to write; not closed by this writer
   * @param bufferSize buffer size in bytes (default 1 MiB); larger writes bypass the buffer
   * @example
   * ```ts
   * import { BufferedWriter, MemorySink } from "./stream.ts";
   * const sink = new MemorySink();
   * const writer = new BufferedWriter(sink, 4);
   * await writer.write(Uint8Array.of(1, 2));
   * await writer.flush();
   * if (sink.bytes().length !== 2 || writer.position !== 2) throw new Error("wrong");
   * ```
   */
  constructor(sink: ByteSink, bufferSize = 1 << 20) {
    this.#sink = sink;
    this.#buffer = new Uint8Array(bufferSize);
  }

  /** Queues `bytes` (copied) for writing. */
  async write(bytes: Uint8Array): Promise<void> {
    this.position += bytes.length;
    if (bytes.length >= this.#buffer.length) {
      await this.flush();
      await writeAll(this.#sink, bytes);
      return;
    }
    if (this.#length + bytes.length > this.#buffer.length) await this.flush();
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Writes out everything queued. */
  async flush(): Promise<void> {
    if (this.#length === 0) return;
    await writeAll(this.#sink, this.#buffer.subarray(0, this.#length));
    this.#length = 0;
  }
}

/** In-memory source over one byte array (tests, small inputs). */
export class MemorySource implements ByteSource {
  #bytes: Uint8Array;
  #offset = 0;
  /**
   * Reads `bytes` from the start; not copied, so it must not change while read.
   *
   * @param bytes the whole stream content
   * @example
   * ```ts
   * import { MemorySource } from "./stream.ts";
   * const source = new MemorySource(Uint8Array.of(5, 6));
   * const buffer = new Uint8Array(1);
   * if (await source.read(buffer) !== 1 || buffer[0] !== 5) throw new Error("wrong");
   * ```
   */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  /**
   * Copies the next bytes into `p`.
   *
   * @param p destination buffer
   * @returns bytes copied, or null once everything was read
   */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#offset >= this.#bytes.length) return Promise.resolve(null);
    const n = Math.min(p.length, this.#bytes.length - this.#offset);
    p.set(this.#bytes.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }
}

/** In-memory sink collecting everything written (tests). */
export class MemorySink implements ByteSink {
  #chunks: Uint8Array[] = [];
  #length = 0;
  /**
   * Keeps a copy of `p` (callers may reuse their buffer).
   *
   * @param p bytes to append
   * @returns `p.length`: a memory sink never writes short
   */
  write(p: Uint8Array): Promise<number> {
    this.#chunks.push(p.slice());
    this.#length += p.length;
    return Promise.resolve(p.length);
  }
  /** Everything written, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
  /** Everything written, as UTF-8 text. */
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}
