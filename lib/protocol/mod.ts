/**
 * The walb-tools 1.0.19 wire protocol: the packet layer over a byte-stream connection,
 * negotiation, reply idioms and exchange patterns, the built-in commands, `status` and
 * `get`, StreamControl bytes (protocol-and-servers.md §1.1–1.9, §1.11.2).
 *
 * @module
 */
export * from "./builtin.ts";
export * from "./conn.ts";
export * from "./connection.ts";
export * from "./constants.ts";
export * from "./errors.ts";
export * from "./get.ts";
export * from "./negotiation.ts";
export * from "./packet.ts";
export * from "./reply.ts";
export * from "./status.ts";
export * from "./stream_control.ts";
export * from "./timed_conn.ts";
