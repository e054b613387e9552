/**
 * walb-ts: the public library API (formats, codecs, and later the controller).
 *
 * @module
 */
export * from "./lib/errors.ts";
export { checksum, checksumFinish, checksumPartial } from "./lib/format/checksum/checksum.ts";
export * as wlog from "./lib/format/wlog/mod.ts";
