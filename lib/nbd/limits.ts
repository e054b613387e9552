/**
 * Named maxima of the NBD server: buffers, queues and lengths read from clients.
 * Kept beside the NBD code (not in lib/limits.ts) because only lib/nbd uses them.
 *
 * @module
 */
import { assert } from "../errors.ts";

export const NBD_LIMITS = {
  /**
   * Longest export name or description [bytes]. The NBD protocol caps every string at 4096
   * bytes; clients never need more.
   */
  stringSizeMax: 4096,
  /**
   * Longest option payload we read [bytes]: a name (4 + 4096) plus a generous list of info
   * requests. Longer options get NBD_REP_ERR_TOO_BIG and the connection is closed, so a
   * hostile length never drives an allocation or a long read.
   */
  optionDataSizeMax: 16 * 1024,
  /** Options one client may send before transmission; stops endless option loops. */
  optionCountMax: 1024,
  /**
   * Default maximum block size advertised [bytes] (the protocol's default assumption for
   * clients that do not ask, 32 MiB). A backend may advertise less.
   */
  blockSizeMaxDefault: 32 * 1024 * 1024,
  /** Requests handled at once per connection: above a QD 32 client, below unbounded memory. */
  inFlightMax: 128,
  /**
   * Payload bytes (write data and read replies) in flight per connection. A request larger than
   * the room left waits; one request alone is always admitted (it fits the block size maximum).
   */
  inFlightBytesMax: 128 * 1024 * 1024,
  /**
   * Payload of a rejected write we read and drop to stay in sync with the client [bytes];
   * longer ones get an error reply and the connection is closed.
   */
  rejectedPayloadSkipMax: 64 * 1024 * 1024,
  /** Socket read buffer per connection [bytes]: large reads batch many small requests. */
  readBufferSize: 1024 * 1024,
  /** Replies coalesced into one socket write [bytes]; bigger replies go out alone. */
  replyCoalesceSizeMax: 256 * 1024,
  /**
   * Free buffers kept per connection for reuse, for read replies and (when the backend allows)
   * for write payloads, each [bytes]: a QD 32 client of 4 KiB IOs or a QD 4 client of 1 MiB
   * IOs runs without allocating.
   */
  bufferPoolBytesMax: 16 * 1024 * 1024,
  /** Default time a client has to finish the handshake [ms]. */
  handshakeTimeoutMsDefault: 30_000,
} as const;

assert(
  NBD_LIMITS.blockSizeMaxDefault <= NBD_LIMITS.inFlightBytesMax,
  "one maximum request fits the in-flight byte budget",
);
assert(
  NBD_LIMITS.optionDataSizeMax >= 4 + NBD_LIMITS.stringSizeMax + 2,
  "an INFO/GO option with the longest name fits",
);
assert(NBD_LIMITS.readBufferSize >= 28, "a request header fits the read buffer");
