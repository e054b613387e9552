/**
 * The proxy server (protocol-and-servers.md §2.3): volumes and their persistence, wlog
 * reception into indexed wdiffs, the archive-info registry, the wdiff senders, controller
 * commands, status and get, startup recovery.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./handlers.ts";
export * from "./host_info.ts";
export * from "./recovery.ts";
export * from "./sender.ts";
export * from "./server.ts";
export * from "./status.ts";
export * from "./store.ts";
export * from "./volume.ts";
export * from "./wlog_receive.ts";
