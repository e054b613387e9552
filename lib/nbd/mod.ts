/**
 * NBD server library: the transport of the userland WalB device. Serves one export behind
 * {@link NbdBackend} over a unix socket and/or loopback TCP with the fixed newstyle
 * handshake (NBD_OPT_GO/INFO with block sizes) and READ, WRITE, FLUSH, FUA, TRIM and
 * WRITE_ZEROES, pipelined with bounded requests in flight.
 *
 * @example
 * ```ts
 * import { NbdServer, silentLogger } from "./mod.ts";
 * import { MemoryBackend } from "./testing_backends.ts";
 * const server = await NbdServer.listen(new MemoryBackend(1 << 20), {
 *   tcp: { port: 0 },
 *   logger: silentLogger,
 * });
 * await server.stop();
 * ```
 *
 * @module
 */
export {
  type BlockSizes,
  MemoryLogger,
  type NbdBackend,
  NbdIoError,
  type NbdLogger,
  silentLogger,
  type WriteOptions,
  type WriteZeroesOptions,
} from "./backend.ts";
export { type ExportConfig, negotiate, transmissionFlagsOf } from "./handshake.ts";
export { NBD_LIMITS } from "./limits.ts";
export { NbdServer, type NbdServerOptions } from "./server.ts";
export { Transmission, type TransmissionOptions } from "./transmission.ts";
export * from "./protocol.ts";
