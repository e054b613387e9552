/**
 * The byte-stream connection the protocol runs over. `Deno.Conn` (TCP) satisfies it, and so
 * does the in-memory pipe of `lib/testing/net_pipe.ts`.
 *
 * @module
 */

/** A full-duplex byte stream with half-close (walb-tools protocol-and-servers.md §1.1). */
export interface Conn {
  /** Reads up to `p.length` bytes; resolves to null at end of stream (peer closed). */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some bytes of `p` (at least one), resolving to the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the write side (TCP FIN); reading stays possible. */
  closeWrite(): Promise<void>;
  /** Closes both directions and releases the connection; pending reads fail. */
  close(): void;
}
