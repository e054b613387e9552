/**
 * The archive server (protocol-and-servers.md §2.4): volumes, persistence, handlers,
 * wdiff reception, restore/apply/merge, startup recovery.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./handlers.ts";
export * from "./operations.ts";
export * from "./recovery.ts";
export * from "./server.ts";
export * from "./store.ts";
export * from "./volume.ts";
