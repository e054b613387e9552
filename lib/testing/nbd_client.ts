/**
 * A small NBD client for tests: fixed-newstyle handshake with NBD_OPT_GO, then one request
 * at a time (READ, WRITE with optional FUA, FLUSH, TRIM) with simple replies. Enough to
 * drive a userland WalB device from a test as a block client would.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import {
  decodeInfo,
  decodeOptionReply,
  decodeSimpleReply,
  encodeClientFlags,
  encodeInfoRequest,
  encodeOption,
  encodeRequest,
  GREETING_SIZE,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_OPT_GO,
  NBD_REP_ACK,
  NBD_REP_INFO,
  OPTION_REPLY_HEADER_SIZE,
  SIMPLE_REPLY_HEADER_SIZE,
} from "../nbd/protocol.ts";

/** An NBD request the server answered with an error. */
export class NbdRequestError extends Error {
  constructor(readonly errno: number, what: string) {
    super(`NBD ${what} failed: error ${errno}`);
    this.name = "NbdRequestError";
  }
}

/** Where to connect: a unix socket path or a TCP address. */
export type NbdAddress = { unixPath: string } | { hostname: string; port: number };

/**
 * A connected NBD client (one request in flight).
 *
 * @example
 * ```ts ignore
 * const client = await NbdTestClient.connect({ unixPath: "/run/walb/vol0.nbd" });
 * await client.write(0, new Uint8Array(4096));
 * await client.flush();
 * client.close();
 * ```
 */
export class NbdTestClient {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #handle = 0;
  /** Export size [bytes]. */
  readonly sizeBytes: number;
  /** Transmission flags. */
  readonly flags: number;

  private constructor(conn: Deno.Conn, sizeBytes: number, flags: number) {
    this.#conn = conn;
    this.sizeBytes = sizeBytes;
    this.flags = flags;
  }

  /** Connects and runs the handshake (export "" with NBD_OPT_GO). */
  static async connect(address: NbdAddress): Promise<NbdTestClient> {
    const conn = "unixPath" in address
      ? await Deno.connect({ transport: "unix", path: address.unixPath })
      : await Deno.connect({ hostname: address.hostname, port: address.port });
    const probe = new NbdTestClient(conn, 0, 0);
    try {
      await probe.#read(GREETING_SIZE);
      await probe.#write(encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
      await probe.#write(
        encodeOption(
          NBD_OPT_GO,
          encodeInfoRequest({ name: "", infoTypes: [NBD_INFO_BLOCK_SIZE] }),
        ),
      );
      let sizeBytes = -1;
      let flags = 0;
      for (;;) {
        const header = await probe.#read(OPTION_REPLY_HEADER_SIZE);
        const length = new DataView(header.buffer, header.byteOffset).getUint32(16);
        const data = await probe.#read(length);
        const joined = new Uint8Array(header.length + data.length);
        joined.set(header);
        joined.set(data, header.length);
        const reply = decodeOptionReply(joined);
        if (reply.replyType === NBD_REP_ACK) break;
        if (reply.replyType !== NBD_REP_INFO) {
          throw new ProtocolError(`Cannot connect to NBD export: reply type ${reply.replyType}`);
        }
        const info = decodeInfo(reply.data);
        if (info.type === "export") {
          sizeBytes = info.sizeBytes;
          flags = info.transmissionFlags;
        }
      }
      if (sizeBytes < 0) throw new ProtocolError("Cannot connect to NBD export: no export info");
      const client = new NbdTestClient(conn, sizeBytes, flags);
      client.#buffer = probe.#buffer;
      return client;
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  async #read(length: number): Promise<Uint8Array> {
    while (this.#buffer.length < length) {
      const chunk = new Uint8Array(Math.max(64 * 1024, length - this.#buffer.length));
      const size = await this.#conn.read(chunk);
      if (size === null) throw new ProtocolError("Cannot read NBD reply: connection closed");
      const joined = new Uint8Array(this.#buffer.length + size);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, size), this.#buffer.length);
      this.#buffer = joined;
    }
    const result = this.#buffer.slice(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return result;
  }

  async #request(
    type: number,
    fields: { offset: number; length: number; flags?: number; data?: Uint8Array },
    what: string,
  ): Promise<void> {
    const handle = ++this.#handle;
    await this.#write(encodeRequest({
      flags: fields.flags ?? 0,
      type,
      handleHigh: 0,
      handleLow: handle,
      offset: fields.offset,
      length: fields.length,
    }, fields.data));
    const reply = decodeSimpleReply(await this.#read(SIMPLE_REPLY_HEADER_SIZE));
    if (reply.handleLow !== handle) {
      throw new ProtocolError(`Cannot read NBD reply: handle ${reply.handleLow}, sent ${handle}`);
    }
    if (reply.error !== 0) throw new NbdRequestError(reply.error, what);
  }

  /** READ `length` bytes at `offset`. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    await this.#request(NBD_CMD_READ, { offset, length }, `read at ${offset}`);
    return await this.#read(length);
  }

  /** WRITE `data` at `offset` (FUA when asked). */
  async write(offset: number, data: Uint8Array, options: { fua?: boolean } = {}): Promise<void> {
    const flags = options.fua === true ? NBD_CMD_FLAG_FUA : 0;
    await this.#request(
      NBD_CMD_WRITE,
      { offset, length: data.length, flags, data },
      `write at ${offset}`,
    );
  }

  /** FLUSH. */
  async flush(): Promise<void> {
    await this.#request(NBD_CMD_FLUSH, { offset: 0, length: 0 }, "flush");
  }

  /** TRIM `length` bytes at `offset`. */
  async trim(offset: number, length: number): Promise<void> {
    await this.#request(NBD_CMD_TRIM, { offset, length }, `trim at ${offset}`);
  }

  /** Sends NBD_CMD_DISC and closes. */
  async disconnect(): Promise<void> {
    try {
      await this.#write(
        encodeRequest({
          flags: 0,
          type: NBD_CMD_DISC,
          handleHigh: 0,
          handleLow: 0,
          offset: 0,
          length: 0,
        }),
      );
    } finally {
      this.close();
    }
  }

  /** Closes the connection without a goodbye. */
  close(): void {
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
}
