/**
 * Snapshot metadata of walb-tools (wdiff-and-archive.md §8–§12): MetaSnap, MetaDiff,
 * MetaState, MetaLsidGid with their text forms and serialization, the rules on snapshots
 * and diffs, wdiff file names, the diff selection algorithms and storage gid allocation.
 *
 * gids and lsids are `bigint` (u64; 2^64 − 1 is "none"); timestamps are `number` unix
 * seconds (UTC in every text form); dataSize is a `number` of bytes.
 *
 * @module
 */
export * from "./timestamp.ts";
export * from "./meta_snap.ts";
export * from "./meta_diff.ts";
export * from "./meta_rules.ts";
export * from "./meta_state.ts";
export * from "./meta_lsid_gid.ts";
export * from "./diff_file_name.ts";
export * from "./meta_diff_manager.ts";
export * from "./gid_allocation.ts";
