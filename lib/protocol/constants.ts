/**
 * Fixed values of the walb-tools 1.0.19 wire protocol: the protocol version, the Ack magic,
 * the special status strings (protocol-and-servers.md §1.6), host types and the catalogue
 * of protocol names (§1.8).
 *
 * @module
 */

/** Protocol version sent by clients and required by servers (§1.4.1 step 3). */
export const PROTOCOL_VERSION = 1;

/** The Ack value: "walb" read as a little-endian u32, sent as `vu32` (`82 77 61 6C 62`). */
export const ACK_VALUE = 0x626c6177;

/** Default session timeout of walbc and servers (`-to`, seconds → ms). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Special status strings (§1.6); an error text must never equal one of them. */
export const STATUS = {
  ok: "ok",
  accept: "accept",
  tooNewDiff: "too-new-diff",
  tooOldDiff: "too-old-diff",
  differentUuid: "different-uuid",
  stopped: "stopped",
  wdiffRecv: "wdiff-recv",
  syncing: "syncing",
  archiveNotFound: "archive-not-found",
  smallerLvSize: "smaller-lv-size",
  execDisabled: "exec command is disabled",
  execNotAllowed: "exec command is not allowed",
  resyncNotAllowed: "resync is required but not allowed",
} as const;

/** One of the special status strings. */
export type StatusString = (typeof STATUS)[keyof typeof STATUS];

const STATUS_SET: ReadonlySet<string> = new Set(Object.values(STATUS));

/** True when `text` is one of the special status strings (so it cannot be an error text). */
export function isStatusString(text: string): text is StatusString {
  return STATUS_SET.has(text);
}

/** Host types as sent by `get host-type` and in wdiff-transfer (§1.6). */
export const HOST_TYPE = {
  controller: "controller",
  storage: "storage",
  proxy: "proxy",
  archive: "archive",
} as const;

/** A host type string. */
export type HostType = (typeof HOST_TYPE)[keyof typeof HOST_TYPE];

/** Built-in protocols every role serves (§1.9.1). */
export const BUILTIN_PROTOCOLS = ["shutdown", "sleep", "version"] as const;

/** Controller protocols per role (§1.8), without the built-ins and `debug`. */
export const CONTROLLER_PROTOCOLS: Readonly<
  Record<"storage" | "proxy" | "archive", readonly string[]>
> = {
  storage: [
    "status",
    "init-vol",
    "clear-vol",
    "reset-vol",
    "start",
    "stop",
    "full-bkp",
    "hash-bkp",
    "snapshot",
    "resize",
    "kick",
    "set-full-scan-bps",
    "dbg-dump-logpack-header",
    "get",
    "exec",
  ],
  proxy: [
    "status",
    "clear-vol",
    "start",
    "stop",
    "resize",
    "kick",
    "archive-info",
    "get",
    "exec",
  ],
  archive: [
    "status",
    "init-vol",
    "clear-vol",
    "reset-vol",
    "start",
    "stop",
    "resize",
    "restore",
    "del-restored",
    "del-cold",
    "replicate",
    "apply",
    "merge",
    "bhash",
    "virt-full-scan",
    "disable-snapshot",
    "enable-snapshot",
    "gc-diff",
    "dbg-reload-metadata",
    "dbg-set-uuid",
    "dbg-set-state",
    "dbg-set-base",
    "get",
    "exec",
  ],
};

/** Server-to-server protocol names (§1.8); the version suffix is part of the name. */
export const SERVER_PROTOCOLS = {
  wlogTransfer: "wlog-transfer",
  wdiffTransfer: "wdiff-transfer",
  dirtyFullSync: "dirty-full-sync3",
  dirtyHashSync: "dirty-hash-sync2",
  replSync: "repl-sync3",
  gatherLatestSnap: "gather-latest-snap",
} as const;

/** Server-to-server protocols each role serves (§1.8). */
export const SERVED_SERVER_PROTOCOLS: Readonly<
  Record<"storage" | "proxy" | "archive", readonly string[]>
> = {
  storage: [],
  proxy: [SERVER_PROTOCOLS.wlogTransfer],
  archive: [
    SERVER_PROTOCOLS.wdiffTransfer,
    SERVER_PROTOCOLS.dirtyFullSync,
    SERVER_PROTOCOLS.dirtyHashSync,
    SERVER_PROTOCOLS.replSync,
    SERVER_PROTOCOLS.gatherLatestSnap,
  ],
};

/** StreamControl bytes (§1.11.2). */
export const STREAM_CONTROL = { next: 0, end: 1, error: 2, dummy: 3 } as const;

/** One StreamControl byte value. */
export type StreamControlValue = (typeof STREAM_CONTROL)[keyof typeof STREAM_CONTROL];
