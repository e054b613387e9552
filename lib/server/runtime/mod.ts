/**
 * The common server runtime shared by storage, proxy and archive (protocol-and-servers.md
 * §2.1): accept loop and limits, handler registry and built-ins, shutdown, per-volume state
 * machine, stop flag, action counters, task queue, handler statistics, log lines and atomic
 * metadata files.
 *
 * @module
 */
export * from "./foreground.ts";
export * from "./format.ts";
export * from "./fs.ts";
export * from "./handler_stat.ts";
export * from "./logger.ts";
export * from "./server.ts";
export * from "./state_machine.ts";
export * from "./task_queue.ts";
export * from "./volume_flags.ts";
export * from "./get.ts";
