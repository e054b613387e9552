/**
 * Archive image backends (STYLE.md): one {@link ArchiveBackend} interface, the file backend
 * (sparse image files named as LVs), and the LV naming of wdiff-and-archive.md §13.2.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./file_backend.ts";
export * from "./names.ts";
