/**
 * The cybozulib binary serializer used by walb-tools for metadata files and on the wire:
 * fixed-width bool/u8/u16, variable-length integers by declared C++ type, strings, vectors,
 * maps and raw byte arrays (wdiff-and-archive.md §12, protocol-and-servers.md §1.2).
 *
 * @module
 */
export * from "./varint.ts";
export * from "./writer.ts";
export * from "./reader.ts";
