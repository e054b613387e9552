/**
 * The controller library (the original's walblib, controller-api.md): clients of the three
 * server roles over our own protocol client, the walbc command catalogue, the layout types,
 * the text value parsers, and the controller operations with their waits.
 *
 * @module
 */
export * from "./archive_commands.ts";
export * from "./client.ts";
export * from "./common_commands.ts";
export * from "./errors.ts";
export * from "./exchanges.ts";
export * from "./layout.ts";
export * from "./param_check.ts";
export * from "./proxy_commands.ts";
export * from "./storage_commands.ts";
export * from "./values.ts";
export * from "./walbc_commands.ts";
export * from "./controller.ts";
export * from "./operations_archive.ts";
export * from "./operations_backup.ts";
export * from "./operations_basic.ts";
export * from "./operations_sync.ts";
export * from "./states.ts";
export * from "./wait.ts";
