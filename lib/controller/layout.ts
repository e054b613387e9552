/**
 * Layout and configuration of a backup group (controller-api.md §1.1–1.4): server kinds,
 * connection and startup parameters, the layout of storages, proxies and archives, and the
 * server start arguments built from them.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** The three server kinds, by their text (`K_STORAGE` = 0, `K_PROXY` = 1, `K_ARCHIVE` = 2). */
export const SERVER_KINDS = ["storage", "proxy", "archive"] as const;

/** A server kind. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/**
 * The kind of a number (0, 1, 2) or text.
 *
 * @throws {UsageError} for an unknown value
 */
export function toServerKind(value: number | string): ServerKind {
  const kind = typeof value === "number" ? SERVER_KINDS[value] : value;
  if (kind === undefined || !(SERVER_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`bad server kind:${value}`);
  }
  return kind as ServerKind;
}

/** The number of a kind (storage 0, proxy 1, archive 2). */
export function serverKindNumber(kind: ServerKind): number {
  return SERVER_KINDS.indexOf(kind);
}

/**
 * How to reach one server (§1.1): `name` must equal the server's `-id` (proxies know
 * archives by name).
 *
 * @example
 * ```ts
 * import { ServerConnectionParam } from "./layout.ts";
 * const a0 = new ServerConnectionParam("a0", "localhost", 10200, "archive");
 * if (a0.getHostPort() !== "localhost:10200") throw new Error();
 * ```
 */
export class ServerConnectionParam {
  /** Server id (its `-id`). */
  readonly name: string;
  /** Host name or address. */
  readonly address: string;
  /** TCP port. */
  readonly port: number;
  /** Server kind. */
  readonly kind: ServerKind;

  /** A connection parameter, checked.
   * @throws {UsageError} for an empty name or address, a bad port or an unknown kind */
  constructor(name: string, address: string, port: number, kind: ServerKind | number) {
    if (name === "") throw new UsageError("ServerConnectionParam:empty name");
    if (address === "") throw new UsageError("ServerConnectionParam:empty address");
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new UsageError(`ServerConnectionParam:bad port:${port}`);
    }
    this.name = name;
    this.address = address;
    this.port = port;
    this.kind = toServerKind(kind);
  }

  /** `address:port`. */
  getHostPort(): string {
    return `${this.address}:${this.port}`;
  }

  /** Equal when name, address, port and kind are all equal. */
  equals(other: ServerConnectionParam): boolean {
    return this.name === other.name && this.address === other.address &&
      this.port === other.port && this.kind === other.kind;
  }

  /** `name, address, port, kind`. */
  toString(): string {
    return `${this.name}, ${this.address}, ${this.port}, ${this.kind}`;
  }
}

/** Optional fields of {@link ServerStartupParam}. */
export interface ServerStartupInit {
  /** Log file; default `<dataDir>/<name>.log`. */
  logPath?: string;
  /** Volume group (archives: required). */
  vg?: string;
  /** Thin pool (archives only). */
  tp?: string;
}

/**
 * A connection parameter plus what is needed to start the server (§1.2). Compared by name.
 */
export class ServerStartupParam {
  /** The connection part. */
  readonly connParam: ServerConnectionParam;
  /** Directory of the executables, concatenated directly (ends with `/`). */
  readonly binDir: string;
  /** Persistent base directory (`-b`). */
  readonly dataDir: string;
  /** Log file (`-l`), or undefined for the default. */
  readonly logPath: string | undefined;
  /** Volume group (archives). */
  readonly vg: string | undefined;
  /** May be set after construction (the thin-pool variant of the tests). */
  tp: string | undefined;

  /** A startup parameter, checked.
   * @throws {UsageError} when an archive has no `vg` */
  constructor(
    connParam: ServerConnectionParam,
    binDir: string,
    dataDir: string,
    init: ServerStartupInit = {},
  ) {
    if (connParam.kind === "archive" && init.vg === undefined) {
      throw new UsageError(`ServerStartupParam:vg is required for archive ${connParam.name}`);
    }
    this.connParam = connParam;
    this.binDir = binDir;
    this.dataDir = dataDir;
    this.logPath = init.logPath;
    this.vg = connParam.kind === "archive" ? init.vg : undefined;
    this.tp = connParam.kind === "archive" ? init.tp : undefined;
  }

  /** Server id. */
  get name(): string {
    return this.connParam.name;
  }
  /** Host name or address. */
  get address(): string {
    return this.connParam.address;
  }
  /** TCP port. */
  get port(): number {
    return this.connParam.port;
  }
  /** Server kind. */
  get kind(): ServerKind {
    return this.connParam.kind;
  }
  /** `address:port`. */
  getHostPort(): string {
    return this.connParam.getHostPort();
  }
}

/** Either parameter kind; every controller operation accepts both. */
export type ServerParams = ServerConnectionParam | ServerStartupParam;

/** The connection part of a {@link ServerParams}. */
export function connectionOf(server: ServerParams): ServerConnectionParam {
  return server instanceof ServerStartupParam ? server.connParam : server;
}

/** Lists given to {@link ServerLayout.replace}; an empty or absent list means "unchanged". */
export interface LayoutReplacement {
  /** New storages. */
  storageL?: readonly ServerParams[];
  /** New proxies. */
  proxyL?: readonly ServerParams[];
  /** New archives. */
  archiveL?: readonly ServerParams[];
}

/**
 * The servers of one backup group (§1.3): proxies in priority order, `archiveL[0]` the
 * primary archive.
 */
export class ServerLayout {
  /** Storages. */
  readonly storageL: readonly ServerParams[];
  /** Proxies in priority order. */
  readonly proxyL: readonly ServerParams[];
  /** Archives; the first is the primary. */
  readonly archiveL: readonly ServerParams[];

  /** A layout, checked.
   * @throws {UsageError} when an element's kind does not match its list */
  constructor(
    storageL: readonly ServerParams[],
    proxyL: readonly ServerParams[],
    archiveL: readonly ServerParams[],
  ) {
    checkKinds(storageL, "storage");
    checkKinds(proxyL, "proxy");
    checkKinds(archiveL, "archive");
    this.storageL = [...storageL];
    this.proxyL = [...proxyL];
    this.archiveL = [...archiveL];
  }

  /**
   * The primary archive.
   *
   * @throws {UsageError} without archives
   */
  getPrimaryArchive(): ServerParams {
    const primary = this.archiveL[0];
    if (primary === undefined) throw new UsageError("ServerLayout:no archive");
    return primary;
  }

  /** Storages, then proxies, then archives. */
  getAll(): ServerParams[] {
    return [...this.storageL, ...this.proxyL, ...this.archiveL];
  }

  /** A new layout with the non-empty given lists replaced. */
  replace(replacement: LayoutReplacement): ServerLayout {
    const pick = (given: readonly ServerParams[] | undefined, current: readonly ServerParams[]) =>
      given === undefined || given.length === 0 ? current : given;
    return new ServerLayout(
      pick(replacement.storageL, this.storageL),
      pick(replacement.proxyL, this.proxyL),
      pick(replacement.archiveL, this.archiveL),
    );
  }

  /**
   * Requires at least the given numbers of storages, proxies and archives.
   * @throws {UsageError} when a list is shorter than its minimum
   */
  verify(minStorage: number, minProxy: number, minArchive: number): void {
    if (
      this.storageL.length < minStorage || this.proxyL.length < minProxy ||
      this.archiveL.length < minArchive
    ) {
      throw new UsageError(
        `ServerLayout:too few servers:${this.storageL.length}:${this.proxyL.length}:` +
          `${this.archiveL.length}:need ${minStorage}:${minProxy}:${minArchive}`,
      );
    }
  }

  /**
   * One server command line per server, space-joined (every element must be a startup param).
   *
   * @throws {UsageError} when an element is only a connection param
   */
  toCmdString(): string {
    return this.getAll().map((server) => {
      if (!(server instanceof ServerStartupParam)) {
        throw new UsageError(`ServerLayout:not a startup param:${server.name}`);
      }
      return getServerArgs(server, { layout: this }).join(" ");
    }).join("\n");
  }

  /** The server names, comma-separated. */
  toString(): string {
    return this.getAll().map((server) => server.name).join(",");
  }
}

function checkKinds(list: readonly ServerParams[], kind: ServerKind): void {
  for (const server of list) {
    if (server.kind !== kind) {
      throw new UsageError(`ServerLayout:${server.name} is a ${server.kind}, not a ${kind}`);
    }
  }
}

/** Options of {@link getServerParams} (§1.4 defaults). */
export interface ServerParamsOptions {
  /** Required for storages. */
  layout?: ServerLayout;
  /** `-debug`. */
  isDebug?: boolean;
  /** Listen 10000 above the nominal port (a packet repeater takes the nominal one). */
  useRepeater?: boolean;
  /** `-fg` (default 2; null = omitted). */
  maxFgTasks?: number | null;
  /** `-bg` (default 1; never for archives; null = omitted). */
  maxBgTasks?: number | null;
  /** `-maxconn`, when given. */
  maxConn?: number;
  /** `-to` seconds, when given. */
  timeoutS?: number;
}

/**
 * The option map of one server (§1.4): option name → value (null for a flag).
 *
 * @throws {UsageError} for a storage without a layout
 */
export function getServerParams(
  server: ServerStartupParam,
  options: ServerParamsOptions = {},
): Map<string, string | string[] | null> {
  const params = new Map<string, string | string[] | null>();
  if (server.kind === "storage") {
    const layout = options.layout;
    if (layout === undefined) throw new UsageError("getServerParams:a storage needs a layout");
    params.set("archive", layout.getPrimaryArchive().getHostPort());
    params.set("proxy", layout.proxyL.map((proxy) => proxy.getHostPort()).join(","));
  } else if (server.kind === "archive") {
    params.set("vg", server.vg ?? "");
    if (server.tp !== undefined) params.set("tp", server.tp);
  }
  params.set("p", String(server.port + (options.useRepeater ? 10000 : 0)));
  params.set("b", server.dataDir);
  params.set("l", server.logPath ?? `${server.dataDir}/${server.name}.log`);
  params.set("id", server.name);
  const fg = options.maxFgTasks === undefined ? 2 : options.maxFgTasks;
  const bg = options.maxBgTasks === undefined ? 1 : options.maxBgTasks;
  if (fg !== null) params.set("fg", String(fg));
  if (bg !== null && server.kind !== "archive") params.set("bg", String(bg));
  if (options.maxConn !== undefined) params.set("maxconn", String(options.maxConn));
  if (options.timeoutS !== undefined) params.set("to", String(options.timeoutS));
  if (options.isDebug) params.set("debug", null);
  return params;
}

/**
 * The command line of one server: `<binDir>walb <kind>` then `-key value...` in a fixed
 * order (the single binary replaces the original's `walb-<kind>` executables).
 */
export function getServerArgs(
  server: ServerStartupParam,
  options: Omit<ServerParamsOptions, "maxConn" | "timeoutS"> = {},
): string[] {
  const args = [`${server.binDir}walb`, server.kind];
  for (const [key, value] of getServerParams(server, options)) {
    args.push(`-${key}`);
    if (Array.isArray(value)) args.push(...value);
    else if (value !== null) args.push(value);
  }
  return args;
}
