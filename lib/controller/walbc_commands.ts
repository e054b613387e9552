/**
 * The walbc command catalogue (protocol-and-servers.md §3.3): each command's argument
 * shape (for the CLI's shape parser), its local parameter check, and how it runs over a
 * {@link RoleClient} with the parameters sent verbatim, giving the lines walbc prints.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseShutdownParams } from "../protocol/builtin.ts";
import type { RequestOptions } from "./client.ts";
import type { RoleClient } from "./common_commands.ts";
import {
  ARCHIVE_INFO_COMMANDS,
  type ArchiveInfoRequest,
  formatHostInfo,
  parseHostInfo,
  runArchiveInfoClient,
  runBhashClient,
  runSnapshotClient,
} from "./exchanges.ts";
import {
  checkBoolWord,
  checkBulkSize,
  checkCompressOpt,
  checkGetParams,
  checkHostPort,
  checkU64,
  checkVolumeId,
  parseSizeUnit,
} from "./param_check.ts";
import type { TypedValue } from "../protocol/reply.ts";
import { parseMetaState } from "./values.ts";

/** One positional word of a command's shape. */
export interface ShapeArg {
  /** Usage name of the word. */
  name: string;
  /** `int` words must pass the lenient option-integer check (§2.1.1). */
  kind: "string" | "int";
  /** May be left out. */
  optional?: boolean;
  /** Takes every remaining word (at least one unless optional). */
  variadic?: boolean;
}

/** One walbc command. */
export interface WalbcCommand {
  /** Command name as typed. */
  name: string;
  /** Server kinds that serve it: S, P, A. */
  servers: string;
  /** One line for the usage. */
  help: string;
  /** The positional shape; null = no shape parser (`exec`). */
  shape: ShapeArg[] | null;
  /** `-retry` is allowed (status, get). */
  retry: boolean;
  /** Local check; throws UsageError. */
  check(params: readonly string[]): void;
  /** Runs the exchange; resolves to the stdout lines. */
  run(client: RoleClient, params: readonly string[], options: RequestOptions): Promise<string[]>;
}

const arg = (name: string, kind: ShapeArg["kind"] = "string"): ShapeArg => ({ name, kind });
const opt = (name: string, kind: ShapeArg["kind"] = "string"): ShapeArg => ({
  name,
  kind,
  optional: true,
});

/** The text lines of a P-VALUE (size decimal, string as is, lines one each). */
export function valueLines(typed: TypedValue): string[] {
  switch (typed.type) {
    case "size":
      return [typed.value.toString()];
    case "string":
      return [typed.value];
    default:
      return typed.value;
  }
}

function sendvec(
  name: string,
  servers: string,
  help: string,
  shape: ShapeArg[],
  confirm: "ok" | "accept",
  count: number,
  check: (params: readonly string[]) => void,
): WalbcCommand {
  return {
    name,
    servers,
    help,
    shape,
    retry: false,
    check,
    run: async (client, params, options) => {
      await client.command(name, params, { confirm, count, ...options });
      return [];
    },
  };
}

const volOnly = (p: readonly string[]) => void checkVolumeId(p[0]);
const volGid = (p: readonly string[]) => {
  checkVolumeId(p[0]);
  checkU64(p[1], "gid");
};

function checkArchiveInfo(params: readonly string[]): ArchiveInfoRequest {
  const [cmd, volIdText, archiveName, ...hostWords] = params;
  if (!(ARCHIVE_INFO_COMMANDS as readonly (string | undefined)[]).includes(cmd)) {
    throw new UsageError(`archive-info:bad command:${cmd}`);
  }
  const volId = checkVolumeId(volIdText);
  if (cmd === "list") return { cmd, volId };
  if (archiveName === undefined) throw new UsageError(`archive-info:archive name not specified`);
  if (cmd === "get" || cmd === "delete") return { cmd, volId, archiveName };
  return { cmd: cmd as "add" | "update", volId, archiveName, hostInfo: parseHostInfo(hostWords) };
}

function checkReplicate(params: readonly string[]): void {
  const [vol, kind, value, hostPort, doResync, dontMerge, cmpr, maxMerge, bulk] = params;
  checkVolumeId(vol);
  if (kind !== "gid" && kind !== "size") throw new UsageError(`replicate:bad type:${kind}`);
  checkU64(value, kind);
  checkHostPort(hostPort);
  checkBoolWord(doResync, "doResync");
  checkBoolWord(dontMerge, "dontMerge");
  if (cmpr !== undefined) checkCompressOpt(cmpr);
  if (maxMerge !== undefined) parseSizeUnit(maxMerge);
  if (bulk !== undefined) checkBulkSize(bulk);
}

function checkMerge(params: readonly string[]): void {
  const [vol, gidBText, kind, value] = params;
  checkVolumeId(vol);
  const gidB = checkU64(gidBText, "gidB");
  if (kind !== "gid" && kind !== "size") throw new UsageError(`merge:bad type:${kind}`);
  const n = checkU64(value, kind);
  if (kind === "gid" && n <= gidB) throw new UsageError(`merge:bad gid range:${gidB}:${n}`);
}

function checkBhash(params: readonly string[]): void {
  volGid(params);
  if (params[2] !== undefined) checkBulkSize(params[2]);
  if (params[3] !== undefined) parseSizeUnit(params[3]);
  if (params[4] !== undefined && checkU64(params[4], "sleep percent") >= 100n) {
    throw new UsageError(`bad sleep percent:${params[4]}`);
  }
}

const COMMANDS: WalbcCommand[] = [
  {
    name: "status",
    servers: "SPA",
    help: "show status of the server or a volume",
    shape: [opt("VOL")],
    retry: true,
    check: (p) => p.length === 0 || volOnly(p),
    run: async (client, params, options) => await client.status(params[0], options),
  },
  sendvec(
    "init-vol",
    "SA",
    "initialize a volume (WDEV_PATH for storage only)",
    [arg("VOL"), opt("WDEV_PATH")],
    "ok",
    0,
    volOnly,
  ),
  sendvec("clear-vol", "SPA", "clear a volume", [arg("VOL")], "ok", 1, volOnly),
  sendvec("reset-vol", "SA", "reset a volume", [arg("VOL"), opt("GID", "int")], "ok", 0, (p) => {
    checkVolumeId(p[0]);
    if (p[1] !== undefined) checkU64(p[1], "gid");
  }),
  ...["full-bkp", "hash-bkp"].map((name) =>
    sendvec(
      name,
      "S",
      `${name.slice(0, 4)} backup (asynchronous)`,
      [
        arg("VOL"),
        opt("BULK_SIZE", "int"),
      ],
      "accept",
      0,
      (p) => {
        checkVolumeId(p[0]);
        if (p[1] !== undefined) checkBulkSize(p[1]);
      },
    )
  ),
  sendvec(
    "restore",
    "A",
    "restore a snapshot (asynchronous)",
    [arg("VOL"), arg("GID", "int")],
    "accept",
    2,
    volGid,
  ),
  sendvec(
    "del-restored",
    "A",
    "delete a restored volume",
    [arg("VOL"), arg("GID", "int")],
    "ok",
    2,
    volGid,
  ),
  sendvec(
    "del-cold",
    "A",
    "delete a cold snapshot",
    [arg("VOL"), arg("GID", "int")],
    "ok",
    2,
    volGid,
  ),
  sendvec(
    "start",
    "SPA",
    "start a volume (ROLE target|standby for storage)",
    [
      arg("VOL"),
      opt("ROLE"),
    ],
    "ok",
    0,
    volOnly,
  ),
  sendvec(
    "stop",
    "SPA",
    "stop a volume (asynchronous; MODE graceful|force|empty)",
    [
      arg("VOL"),
      opt("MODE"),
    ],
    "accept",
    0,
    volOnly,
  ),
  {
    name: "archive-info",
    servers: "P",
    help: "list|add|update|get|delete archive info of a proxy volume",
    shape: [
      arg("CMD"),
      arg("VOL"),
      opt("ARCHIVE_ID"),
      opt("ADDR:PORT"),
      opt("CMPR"),
      opt("DELAY"),
    ],
    retry: false,
    check: (p) => void checkArchiveInfo(p),
    run: async (client, params, options) => {
      const request = checkArchiveInfo(params);
      const reply = await client.request(
        "archive-info",
        (packet) => runArchiveInfoClient(packet, request),
        options,
      );
      if (reply === undefined) return [];
      return Array.isArray(reply) ? reply : [formatHostInfo(reply)];
    },
  },
  {
    name: "snapshot",
    servers: "S",
    help: "take a snapshot and print its gid",
    shape: [arg("VOL")],
    retry: false,
    check: volOnly,
    run: async (client, params, options) => {
      const gid = await client.request(
        "snapshot",
        (packet) => runSnapshotClient(packet, params[0]!),
        options,
      );
      return [gid.toString()];
    },
  },
  ...["disable-snapshot", "enable-snapshot"].map((name) =>
    sendvec(
      name,
      "A",
      `${name.split("-")[0]} snapshots`,
      [arg("VOL"), {
        name: "GID",
        kind: "int",
        variadic: true,
      }],
      "ok",
      0,
      (p) => {
        checkVolumeId(p[0]);
        if (p.length < 2) throw new UsageError(`${name}:gid not specified`);
        p.slice(1).forEach((gid) => checkU64(gid, "gid"));
      },
    )
  ),
  sendvec(
    "replicate",
    "A",
    "replicate to another archive (asynchronous)",
    [
      arg("VOL"),
      arg("gid|size"),
      arg("N"),
      arg("ADDR:PORT"),
      opt("DO_RESYNC"),
      opt("DONT_MERGE"),
      opt("CMPR"),
      opt("MAX_MERGE_SIZE"),
      opt("BULK_SIZE"),
    ],
    "accept",
    0,
    checkReplicate,
  ),
  sendvec(
    "apply",
    "A",
    "apply diffs older than GID (asynchronous)",
    [arg("VOL"), arg("GID", "int")],
    "accept",
    2,
    volGid,
  ),
  sendvec(
    "merge",
    "A",
    "merge diffs (asynchronous)",
    [
      arg("VOL"),
      arg("GID_B", "int"),
      arg("gid|size"),
      arg("N"),
    ],
    "accept",
    4,
    checkMerge,
  ),
  sendvec(
    "resize",
    "SPA",
    "grow a volume",
    [arg("VOL"), arg("SIZE", "int"), opt("zeroclear")],
    "ok",
    0,
    (p) => {
      checkVolumeId(p[0]);
      parseSizeUnit(p[1] ?? "");
      if (p[2] !== undefined && p[2] !== "zeroclear") {
        throw new UsageError(
          `resize:bad option:${p[2]}`,
        );
      }
    },
  ),
  sendvec("kick", "SP", "kick background tasks", [opt("VOL"), opt("ARCHIVE_ID")], "ok", 0, (p) => {
    if (p.length > 0) checkVolumeId(p[0]);
  }),
  sendvec(
    "set-full-scan-bps",
    "S",
    "set the full/hash backup read limit",
    [
      arg("BYTES_PER_SEC", "int"),
    ],
    "ok",
    0,
    (p) => void parseSizeUnit(p[0] ?? ""),
  ),
  {
    name: "bhash",
    servers: "A",
    help: "print the block hash of a snapshot",
    shape: [arg("VOL"), arg("GID", "int"), opt("BULK_SIZE"), opt("SCAN_SIZE"), opt("SLEEP_PCT")],
    retry: false,
    check: checkBhash,
    run: async (client, params, options) => [
      await client.request("bhash", (packet) => runBhashClient(packet, params), options),
    ],
  },
  {
    name: "get",
    servers: "SPA",
    help: "get a value (TARGET as in the manual)",
    shape: [arg("TARGET"), { name: "ARGS", kind: "string", optional: true, variadic: true }],
    retry: true,
    check: checkGetParams,
    run: async (client, params, options) => valueLines(await client.get(params, options)),
  },
  {
    name: "exec",
    servers: "SPA",
    help: "run a program on the server host",
    shape: null,
    retry: false,
    check: (p) => {
      if (p.length === 0) throw new UsageError("exec:no command specified");
    },
    run: async (client, params, options) => await client.exec(params, options),
  },
  {
    name: "shutdown",
    servers: "SPA",
    help: "shut down the server (graceful|force)",
    shape: [opt("MODE")],
    retry: false,
    check: (p) => void parseShutdownParams(p),
    run: async (client, params) => {
      await client.shutdown(parseShutdownParams(params) ? "force" : "graceful");
      return [];
    },
  },
  {
    name: "sleep",
    servers: "SPA",
    help: "make the server sleep (a test aid)",
    shape: [opt("SEC", "int")],
    retry: false,
    check: (p) => void (p[0] === undefined || checkU64(p[0], "seconds")),
    run: async (client, params, options) => {
      await client.sleep(params[0] === undefined ? 1n : BigInt(params[0]), options);
      return [];
    },
  },
  {
    name: "version",
    servers: "SPA",
    help: "print the server version",
    shape: [],
    retry: false,
    check: () => {},
    run: async (client) => [await client.version()],
  },
  sendvec("gc-diff", "A", "remove unusable wdiff files", [arg("VOL")], "ok", 1, volOnly),
  sendvec(
    "dbg-reload-metadata",
    "A",
    "reload wdiff metadata (debug)",
    [arg("VOL")],
    "ok",
    1,
    volOnly,
  ),
  sendvec(
    "dbg-set-uuid",
    "A",
    "set the device uuid (debug)",
    [arg("VOL"), arg("UUID")],
    "ok",
    2,
    (p) => {
      checkVolumeId(p[0]);
      if (!/^[0-9a-fA-F]{32}$/.test(p[1] ?? "")) throw new UsageError(`bad uuid:${p[1]}`);
    },
  ),
  sendvec(
    "dbg-set-state",
    "A",
    "set the volume state (debug)",
    [arg("VOL"), arg("STATE")],
    "ok",
    2,
    volOnly,
  ),
  sendvec(
    "dbg-set-base",
    "A",
    "set the base meta state (debug)",
    [arg("VOL"), arg("METASTATE")],
    "ok",
    2,
    (p) => {
      checkVolumeId(p[0]);
      parseMetaState(p[1] ?? "", { timestampOptional: true });
    },
  ),
  sendvec(
    "dbg-dump-logpack-header",
    "S",
    "dump a logpack header (debug)",
    [
      arg("VOL"),
      arg("LSID", "int"),
    ],
    "ok",
    2,
    (p) => {
      checkVolumeId(p[0]);
      checkU64(p[1], "lsid");
    },
  ),
];

/** Every walbc command by name, in usage order. */
export const WALBC_COMMANDS: ReadonlyMap<string, WalbcCommand> = new Map(
  COMMANDS.map((command) => [command.name, command]),
);

/** The usage words of a shape: `VOL [GID] GID...`. */
export function formatShape(shape: readonly ShapeArg[] | null): string {
  if (shape === null) return "ARGV...";
  return shape.map((a) => {
    const word = a.variadic ? `${a.name}...` : a.name;
    return a.optional ? `[${word}]` : word;
  }).join(" ");
}
