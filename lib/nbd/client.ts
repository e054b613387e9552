/**
 * A minimal read-only NBD client (fixed-newstyle handshake, NBD_OPT_GO on the default export,
 * READ with simple replies, DISC), for servers that read a userland WalB device's data
 * through its NBD socket — the storage's full backup reads `<run dir>/NAME.nbd`.
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
  NBD_CMD_READ,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_OPT_GO,
  NBD_REP_ACK,
  NBD_REP_INFO,
  OPTION_REPLY_HEADER_SIZE,
  SIMPLE_REPLY_HEADER_SIZE,
} from "./protocol.ts";

/** Largest option reply payload we accept [bytes] (info replies are a few bytes). */
const OPTION_REPLY_SIZE_MAX = 64 * 1024;

/** Largest single READ we issue [bytes] (servers refuse requests past 32 MiB). */
export const NBD_CLIENT_READ_SIZE_MAX = 32 * 1024 * 1024;

/** An NBD READ the server answered with an error. */
export class NbdReadError extends Error {
  constructor(readonly errno: number, readonly offsetBytes: number) {
    super(`Cannot read the NBD export at offset ${offsetBytes}: error ${errno}`);
    this.name = "NbdReadError";
  }
}

/**
 * A connected read-only NBD client (one request in flight).
 *
 * @example
 * ```ts ignore
 * const client = await NbdReadClient.connectUnix("/run/walb/vol0.nbd");
 * const head = await client.read(0, 4096);
 * await client.disconnect();
 * ```
 */
export class NbdReadClient {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #handle = 0;
  /** Export size [bytes]. */
  sizeBytes = 0;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Connects to a unix socket and runs the handshake.
   *
   * @throws {ProtocolError} when the server does not offer the export
   */
  static async connectUnix(path: string): Promise<NbdReadClient> {
    const conn = await Deno.connect({ transport: "unix", path });
    const client = new NbdReadClient(conn);
    try {
      await client.#handshake();
      return client;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  async #handshake(): Promise<void> {
    await this.#read(GREETING_SIZE);
    await this.#write(encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
    await this.#write(
      encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "", infoTypes: [NBD_INFO_BLOCK_SIZE] })),
    );
    let sizeBytes = -1;
    for (;;) {
      const header = await this.#read(OPTION_REPLY_HEADER_SIZE);
      const length = new DataView(header.buffer, header.byteOffset).getUint32(16);
      if (length > OPTION_REPLY_SIZE_MAX) {
        throw new ProtocolError(`Cannot connect to NBD export: option reply of ${length} bytes`);
      }
      const joined = new Uint8Array(header.length + length);
      joined.set(header);
      joined.set(await this.#read(length), header.length);
      const reply = decodeOptionReply(joined);
      if (reply.replyType === NBD_REP_ACK) break;
      if (reply.replyType !== NBD_REP_INFO) {
        throw new ProtocolError(`Cannot connect to NBD export: reply type ${reply.replyType}`);
      }
      const info = decodeInfo(reply.data);
      if (info.type === "export") sizeBytes = info.sizeBytes;
    }
    if (sizeBytes < 0) throw new ProtocolError("Cannot connect to NBD export: no export info");
    this.sizeBytes = sizeBytes;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  async #read(length: number): Promise<Uint8Array> {
    if (this.#buffer.length >= length) {
      const result = this.#buffer.slice(0, length);
      this.#buffer = this.#buffer.subarray(length);
      return result;
    }
    const result = new Uint8Array(length);
    result.set(this.#buffer);
    let filled = this.#buffer.length;
    this.#buffer = new Uint8Array(0);
    while (filled < length) {
      const size = await this.#conn.read(result.subarray(filled));
      if (size === null) throw new ProtocolError("Cannot read NBD reply: connection closed");
      filled += size;
    }
    return result;
  }

  /**
   * READ `lengthBytes` at `offsetBytes`.
   *
   * @throws {NbdReadError} when the server answers with an error
   * @throws {RangeError} when the length is over {@link NBD_CLIENT_READ_SIZE_MAX}
   */
  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    if (lengthBytes > NBD_CLIENT_READ_SIZE_MAX) {
      throw new RangeError(`NBD read of ${lengthBytes} bytes is over the limit`);
    }
    const handle = ++this.#handle;
    await this.#write(encodeRequest({
      flags: 0,
      type: NBD_CMD_READ,
      handleHigh: 0,
      handleLow: handle,
      offset: offsetBytes,
      length: lengthBytes,
    }));
    const reply = decodeSimpleReply(await this.#read(SIMPLE_REPLY_HEADER_SIZE));
    if (reply.handleLow !== handle) {
      throw new ProtocolError(`Cannot read NBD reply: handle ${reply.handleLow}, sent ${handle}`);
    }
    if (reply.error !== 0) throw new NbdReadError(reply.error, offsetBytes);
    return await this.#read(lengthBytes);
  }

  /** Sends NBD_CMD_DISC and closes. */
  async disconnect(): Promise<void> {
    try {
      await this.#write(encodeRequest({
        flags: 0,
        type: NBD_CMD_DISC,
        handleHigh: 0,
        handleLow: 0,
        offset: 0,
        length: 0,
      }));
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
