/**
 * The storage server (protocol-and-servers.md §2.2): volumes and their persistence (the
 * queue file included), controller commands, full backup (dirty-full-sync3), snapshots, the
 * device monitor, wlog extraction and transfer to the first available proxy, proxy
 * heartbeat, status and get, startup recovery.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./devices.ts";
export * from "./full_backup.ts";
export * from "./get.ts";
export * from "./handlers.ts";
export * from "./monitor.ts";
export * from "./proxy_monitor.ts";
export * from "./queue_file.ts";
export * from "./records.ts";
export * from "./recovery.ts";
export * from "./server.ts";
export * from "./status.ts";
export * from "./store.ts";
export * from "./volume.ts";
export * from "./worker.ts";
