/**
 * The controller (controller-api.md §1.8, §12, §13): a layout, one client per server over
 * our own protocol client, every request's failure as a {@link RequestFailedError}, the
 * status getters and the private wait helpers on the injected clock. The operations
 * (backup, restore, apply, merge, synchronizing) are in `operations_*.ts` as functions of a
 * Controller; this class exposes them as methods.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { AssertionError } from "../errors.ts";
import type { MetaDiff, MetaState } from "../format/meta/mod.ts";
import type { Net } from "../net.ts";
import { type ArchiveAction, ArchiveClient } from "./archive_commands.ts";
import type { RequestOptions } from "./client.ts";
import type { RoleClient } from "./common_commands.ts";
import { ControllerError, RequestFailedError } from "./errors.ts";
import { connectionOf, type ServerKind, type ServerLayout, type ServerParams } from "./layout.ts";
import { ProxyClient } from "./proxy_commands.ts";
import { POLL_INTERVAL_MS, STATE_WAIT_TIMEOUT_MS, TIMEOUT_MS } from "./states.ts";
import { StorageClient } from "./storage_commands.ts";
import { type GidInfo, UINT64_MAX } from "./values.ts";
import { pollUntil } from "./wait.ts";

/** How a controller talks and waits. */
export interface ControllerOptions {
  /** The network to connect over. */
  net: Net;
  /** The clock of timeouts, retries and waits. */
  clock: Clock;
  /** Sent in every negotiation (default `ctl`). */
  clientId?: string;
  /** Socket timeout of every request in ms; 0 or absent = the client default 10 s. */
  timeoutMs?: number;
  /** Poll interval of every wait (default 300 ms). */
  pollIntervalMs?: number;
  /** Told about retried deletions and similar events (library code never prints). */
  report?: (message: string) => void;
}

/** Which list {@link Controller.waitForGid} watches. */
export type GidListKind = "restorable" | "restored";

/** The controller of one backup group. */
export class Controller {
  /** The layout of the backup group (see {@link setServerLayout}). */
  layout: ServerLayout;
  /** How the controller talks and waits. */
  readonly options: ControllerOptions;

  /** A controller of `layout`; nothing is connected until a request. */
  constructor(layout: ServerLayout, options: ControllerOptions) {
    this.layout = layout;
    this.options = options;
  }

  /** Replaces the layout every "all servers" operation uses. */
  setServerLayout(layout: ServerLayout): void {
    this.layout = layout;
  }

  /** The injected clock. */
  get clock(): Clock {
    return this.options.clock;
  }

  /** The poll interval of waits. */
  get pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? POLL_INTERVAL_MS;
  }

  /** Reports an event through the injected reporter. */
  report(message: string): void {
    this.options.report?.(message);
  }

  #clientOptions(timeoutMs?: number) {
    const timeout = timeoutMs !== undefined && timeoutMs > 0
      ? timeoutMs
      : (this.options.timeoutMs ?? 0) > 0
      ? this.options.timeoutMs
      : undefined;
    return {
      net: this.options.net,
      clock: this.options.clock,
      clientId: this.options.clientId ?? "ctl",
      ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    };
  }

  #address(server: ServerParams) {
    const conn = connectionOf(server);
    return { address: conn.address, port: conn.port, name: conn.name };
  }

  /** A client of storage `server` (per-request timeout `timeoutMs` if > 0). */
  storageClient(server: ServerParams, timeoutMs?: number): StorageClient {
    verifyKind(server, ["storage"]);
    return new StorageClient(this.#address(server), this.#clientOptions(timeoutMs));
  }

  /** A client of proxy `server`. */
  proxyClient(server: ServerParams, timeoutMs?: number): ProxyClient {
    verifyKind(server, ["proxy"]);
    return new ProxyClient(this.#address(server), this.#clientOptions(timeoutMs));
  }

  /** A client of archive `server`. */
  archiveClient(server: ServerParams, timeoutMs?: number): ArchiveClient {
    verifyKind(server, ["archive"]);
    return new ArchiveClient(this.#address(server), this.#clientOptions(timeoutMs));
  }

  /** A client of any kind with the common commands. */
  client(server: ServerParams, timeoutMs?: number): RoleClient {
    switch (server.kind) {
      case "storage":
        return this.storageClient(server, timeoutMs);
      case "proxy":
        return this.proxyClient(server, timeoutMs);
      default:
        return this.archiveClient(server, timeoutMs);
    }
  }

  /**
   * Runs one request and turns its failure into a {@link RequestFailedError} naming the
   * server and `args`. Bugs (AssertionError) propagate unchanged.
   */
  async call<T>(server: ServerParams, args: readonly string[], run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AssertionError || !(error instanceof Error)) throw error;
      throw new RequestFailedError(server.name, args, error.message, { cause: error });
    }
  }

  // ---- getters (§12, §3.9, §3.12, §4.1) ----

  /** `get state VOL`. */
  getState(server: ServerParams, vol: string): Promise<string> {
    return this.call(server, ["get", "state", vol], () => this.client(server).getState(vol));
  }

  /**
   * Requires `state` for `vol` on `server`.
   * @throws {ControllerError} when the state differs
   */
  async verifyState(server: ServerParams, vol: string, state: string): Promise<void> {
    const current = await this.getState(server, vol);
    if (current !== state) {
      throw new ControllerError(`${server.name}:${vol}:bad state:${current}:expected ${state}`);
    }
  }

  /** `get host-type`. */
  getHostType(server: ServerParams): Promise<string> {
    return this.call(server, ["get", "host-type"], () => this.client(server).getHostType());
  }

  /** `get vol`. */
  getVolList(server: ServerParams): Promise<string[]> {
    return this.call(server, ["get", "vol"], () => this.client(server).getVolumes());
  }

  /** `get uuid VOL` (storage or archive). */
  getUuid(server: ServerParams, vol: string): Promise<string> {
    const args = ["get", "uuid", vol];
    if (server.kind === "storage") {
      return this.call(server, args, () => this.storageClient(server).getUuid(vol));
    }
    return this.call(server, args, () => this.archiveClient(server).getUuid(vol));
  }

  /** `get num-action VOL ACTION`. */
  getNumAction(server: ServerParams, vol: string, action: ArchiveAction): Promise<bigint> {
    return this.call(
      server,
      ["get", "num-action", vol, action],
      () => this.archiveClient(server).getNumAction(vol, action),
    );
  }

  /**
   * `status [VOL]` of each server (all servers of the layout by default): a header line
   * of 20 `+`, the name and 20 `+`, then the status lines.
   */
  async status(servers?: readonly ServerParams[], vol?: string): Promise<string[]> {
    const lines: string[] = [];
    const list = servers === undefined || servers.length === 0 ? this.layout.getAll() : servers;
    for (const server of list) {
      lines.push(`${"+".repeat(20)}${server.name}${"+".repeat(20)}`);
      const args = vol === undefined ? ["status"] : ["status", vol];
      lines.push(...await this.call(server, args, () => this.client(server).status(vol)));
    }
    return lines;
  }

  /** `get restorable VOL [all]`. */
  getRestorable(ax: ServerParams, vol: string, all = false): Promise<GidInfo[]> {
    const args = ["get", "restorable", vol, ...(all ? ["all"] : [])];
    return this.call(ax, args, () => this.archiveClient(ax).getRestorable(vol, all));
  }

  /** The gids of {@link getRestorable}. */
  async getRestorableGid(ax: ServerParams, vol: string, all = false): Promise<bigint[]> {
    return (await this.getRestorable(ax, vol, all)).map((info) => info.gid);
  }

  /**
   * The last explicit restorable gid.
   *
   * @throws {ControllerError} when there is none
   */
  async getLatestCleanSnapshot(ax: ServerParams, vol: string): Promise<bigint> {
    const gids = await this.getRestorableGid(ax, vol);
    const last = gids.at(-1);
    if (last === undefined) throw new ControllerError(`${ax.name}:${vol}:no restorable snapshot`);
    return last;
  }

  /** `get restored VOL`. */
  getRestored(ax: ServerParams, vol: string): Promise<bigint[]> {
    return this.call(ax, ["get", "restored", vol], () => this.archiveClient(ax).getRestored(vol));
  }

  /** `get cold VOL`. */
  getCold(ax: ServerParams, vol: string): Promise<bigint[]> {
    return this.call(ax, ["get", "cold", vol], () => this.archiveClient(ax).getCold(vol));
  }

  /** Where the restored image of `gid` is (`get restored-path`; §15 Q12). */
  getRestoredPath(ax: ServerParams, vol: string, gid: bigint): Promise<string> {
    return this.call(
      ax,
      ["get", "restored-path", vol, String(gid)],
      () => this.archiveClient(ax).getRestoredPath(vol, gid),
    );
  }

  /** `get diff VOL GID0 GID1`. */
  getDiffList(ax: ServerParams, vol: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<MetaDiff[]> {
    return this.call(
      ax,
      ["get", "diff", vol, String(gid0), String(gid1)],
      () => this.archiveClient(ax).getDiffList(vol, gid0, gid1),
    );
  }

  /** `get applicable-diff VOL GID`. */
  getApplicableDiffList(ax: ServerParams, vol: string, gid = UINT64_MAX): Promise<MetaDiff[]> {
    return this.call(
      ax,
      ["get", "applicable-diff", vol, String(gid)],
      () => this.archiveClient(ax).getApplicableDiffList(vol, gid),
    );
  }

  /** `get num-diff VOL GID0 GID1` (gid0 ≤ gid1). */
  getNumDiff(ax: ServerParams, vol: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<bigint> {
    verifyGidRange(gid0, gid1, "getNumDiff");
    return this.call(
      ax,
      ["get", "num-diff", vol, String(gid0), String(gid1)],
      () => this.archiveClient(ax).getNumDiff(vol, gid0, gid1),
    );
  }

  /** `get total-diff-size VOL GID0 GID1` (gid0 ≤ gid1). */
  getTotalDiffSize(ax: ServerParams, vol: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<bigint> {
    verifyGidRange(gid0, gid1, "getTotalDiffSize");
    return this.call(
      ax,
      ["get", "total-diff-size", vol, String(gid0), String(gid1)],
      () => this.archiveClient(ax).getTotalDiffSize(vol, gid0, gid1),
    );
  }

  /** `get exists-diff VOL B B E E`. */
  existsDiff(ax: ServerParams, vol: string, gidB: bigint, gidE: bigint): Promise<boolean> {
    return this.call(
      ax,
      ["get", "exists-diff", vol, String(gidB), String(gidB), String(gidE), String(gidE)],
      () => this.archiveClient(ax).existsDiff(vol, gidB, gidE),
    );
  }

  /** `get base VOL`. */
  getBase(ax: ServerParams, vol: string): Promise<MetaState> {
    return this.call(ax, ["get", "base", vol], () => this.archiveClient(ax).getBase(vol));
  }

  /** `archive-info list VOL` on a proxy. */
  getArchiveInfoList(px: ServerParams, vol: string): Promise<string[]> {
    return this.call(
      px,
      ["archive-info", "list", vol],
      () => this.proxyClient(px).archiveInfoList(vol),
    );
  }

  // ---- private wait helpers (§13) ----

  /**
   * Polls `get state` until `predicate` holds.
   *
   * @throws {WaitTimeoutError} with the last state seen
   */
  waitForStateCond(
    server: ServerParams,
    vol: string,
    predicate: (state: string) => boolean,
    what: string,
    timeoutMs = STATE_WAIT_TIMEOUT_MS,
  ): Promise<string> {
    return pollUntil(() => this.getState(server, vol), predicate, {
      clock: this.clock,
      what: `${server.name}:${vol}:${what}`,
      timeoutMs,
      intervalMs: this.pollIntervalMs,
    });
  }

  /** Waits until the state is one of `states`. */
  waitForState(
    server: ServerParams,
    vol: string,
    states: readonly string[],
    timeoutMs = STATE_WAIT_TIMEOUT_MS,
  ): Promise<string> {
    return this.waitForStateCond(
      server,
      vol,
      (state) => states.includes(state),
      `state in ${states.join(",")}`,
      timeoutMs,
    );
  }

  /** Waits until the state is none of `states`. */
  waitForNotState(
    server: ServerParams,
    vol: string,
    states: readonly string[],
    timeoutMs = STATE_WAIT_TIMEOUT_MS,
  ): Promise<string> {
    return this.waitForStateCond(
      server,
      vol,
      (state) => !states.includes(state),
      `state not in ${states.join(",")}`,
      timeoutMs,
    );
  }

  /**
   * Waits until the state leaves `temporaryStates`, reads it again, and requires one of
   * `goalStates`.
   *
   * @throws {ControllerError} "bad goal" otherwise
   */
  async waitForStateChange(
    server: ServerParams,
    vol: string,
    temporaryStates: readonly string[],
    goalStates: readonly string[],
    timeoutMs = STATE_WAIT_TIMEOUT_MS,
  ): Promise<string> {
    await this.waitForNotState(server, vol, temporaryStates, timeoutMs);
    const state = await this.getState(server, vol);
    if (!goalStates.includes(state)) {
      throw new ControllerError(
        `${server.name}:${vol}:bad goal:${state}:expected ${goalStates.join(",")}`,
      );
    }
    return state;
  }

  #gidList(ax: ServerParams, vol: string, kind: GidListKind): Promise<bigint[]> {
    return kind === "restorable" ? this.getRestorableGid(ax, vol) : this.getRestored(ax, vol);
  }

  /** Waits until `gid` is in the restorable (explicit) or restored list. */
  async waitForGid(
    ax: ServerParams,
    vol: string,
    gid: bigint,
    kind: GidListKind,
    timeoutMs = TIMEOUT_MS,
  ): Promise<void> {
    await pollUntil(() => this.#gidList(ax, vol, kind), (gids) => gids.includes(gid), {
      clock: this.clock,
      what: `${ax.name}:${vol}:gid ${gid} ${kind}`,
      timeoutMs,
      intervalMs: this.pollIntervalMs,
      show: (gids) => (gids as bigint[]).join(","),
    });
  }

  /** Waits until `gid` is not in the list. */
  async waitForNotGid(
    ax: ServerParams,
    vol: string,
    gid: bigint,
    kind: GidListKind,
    timeoutMs = TIMEOUT_MS,
  ): Promise<void> {
    await pollUntil(() => this.#gidList(ax, vol, kind), (gids) => !gids.includes(gid), {
      clock: this.clock,
      what: `${ax.name}:${vol}:gid ${gid} not ${kind}`,
      timeoutMs,
      intervalMs: this.pollIntervalMs,
      show: (gids) => (gids as bigint[]).join(","),
    });
  }

  /** Polls `get num-action` until it is 0. */
  async waitForNoAction(
    server: ServerParams,
    vol: string,
    action: ArchiveAction,
    timeoutMs = TIMEOUT_MS,
  ): Promise<void> {
    await pollUntil(() => this.getNumAction(server, vol, action), (n) => n === 0n, {
      clock: this.clock,
      what: `${server.name}:${vol}:no ${action} action`,
      timeoutMs,
      intervalMs: this.pollIntervalMs,
    });
  }

  /** Waits until `gid` is restorable (explicit list); request errors propagate at once. */
  waitForRestorable(
    ax: ServerParams,
    vol: string,
    gid: bigint,
    timeoutMs = TIMEOUT_MS,
  ): Promise<void> {
    return this.waitForGid(ax, vol, gid, "restorable", timeoutMs);
  }

  /**
   * Requires that `gid` does not become restorable within `waitMs`; any failure of the
   * wait (a timeout, a request error) counts as success.
   *
   * @throws {ControllerError} when it becomes restorable
   */
  async verifyNotRestorable(
    ax: ServerParams,
    vol: string,
    gid: bigint,
    waitMs: number,
    message: string,
  ): Promise<void> {
    try {
      await this.waitForRestorable(ax, vol, gid, waitMs);
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      return;
    }
    throw new ControllerError(`${message}:gid must not be restorable:${gid}`);
  }

  /** Request options with a per-request timeout (ms, 0 = the controller's). */
  requestOptions(timeoutMs = 0): RequestOptions {
    return timeoutMs > 0 ? { timeoutMs } : {};
  }
}

/**
 * Requires one of `kinds` for `server`.
 * @throws {ControllerError} when the server's kind is not one of `kinds`
 */
export function verifyKind(server: ServerParams, kinds: readonly ServerKind[]): void {
  if (!kinds.includes(server.kind)) {
    throw new ControllerError(`${server.name}:bad server kind:${server.kind}:${kinds.join(",")}`);
  }
}

function verifyGidRange(gid0: bigint, gid1: bigint, what: string): void {
  if (gid0 > gid1) throw new ControllerError(`${what}:bad gid range:${gid0}:${gid1}`);
}
