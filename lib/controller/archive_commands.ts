/**
 * Archive commands (protocol-and-servers.md §1.9.7, table 3.4), typed.
 *
 * @module
 */
import type { MetaDiff, MetaSnap, MetaState } from "../format/meta/mod.ts";
import type { RequestOptions } from "./client.ts";
import { RoleClient } from "./common_commands.ts";
import { runBhashClient } from "./exchanges.ts";
import {
  type GidInfo,
  parseDiffLine,
  parseGidInfo,
  parseMetaState,
  parseSnapshot,
  UINT64_MAX,
} from "./values.ts";

/** Archive actions counted by `get num-action`. */
export const ARCHIVE_ACTIONS = ["Merge", "Apply", "Restore", "ReplSyncAsClient", "Resize"] as const;

/** One archive action name. */
export type ArchiveAction = (typeof ARCHIVE_ACTIONS)[number];

/** A client of one archive server. */
export class ArchiveClient extends RoleClient {
  /** `init-vol VOL`: Clear → SyncReady. */
  initVol(volId: string): Promise<void> {
    return this.command("init-vol", [volId]);
  }

  /** `clear-vol VOL`: SyncReady or Stopped → Clear. */
  clearVol(volId: string): Promise<void> {
    return this.command("clear-vol", [volId], { count: 1 });
  }

  /** `reset-vol VOL`: Stopped or SyncReady → SyncReady (wipes everything). */
  resetVol(volId: string, options: RequestOptions = {}): Promise<void> {
    return this.command("reset-vol", [volId], options);
  }

  /** `start VOL`: Stopped → Archived. */
  start(volId: string): Promise<void> {
    return this.command("start", [volId]);
  }

  /** `stop VOL [graceful|force]` (asynchronous). */
  stop(volId: string, mode: "graceful" | "force" = "graceful"): Promise<void> {
    return this.command("stop", [volId, mode], { confirm: "accept" });
  }

  /** `restore VOL GID` (asynchronous, action Restore). */
  restore(volId: string, gid: bigint): Promise<void> {
    return this.command("restore", [volId, String(gid)], { confirm: "accept", count: 2 });
  }

  /** `del-restored VOL GID`. */
  delRestored(volId: string, gid: bigint): Promise<void> {
    return this.command("del-restored", [volId, String(gid)], { count: 2 });
  }

  /** `del-cold VOL GID`. */
  delCold(volId: string, gid: bigint): Promise<void> {
    return this.command("del-cold", [volId, String(gid)], { count: 2 });
  }

  /** `apply VOL GID` (asynchronous, action Apply). */
  apply(volId: string, gid: bigint): Promise<void> {
    return this.command("apply", [volId, String(gid)], { confirm: "accept", count: 2 });
  }

  /** `merge VOL GID_B gid GID_E` (asynchronous, action Merge). */
  merge(volId: string, gidB: bigint, gidE: bigint): Promise<void> {
    return this.command("merge", [volId, String(gidB), "gid", String(gidE)], {
      confirm: "accept",
      count: 4,
    });
  }

  /** `disable-snapshot VOL GID...`: make explicit snapshots implicit. */
  disableSnapshot(volId: string, gids: readonly bigint[]): Promise<void> {
    return this.command("disable-snapshot", [volId, ...gids.map(String)]);
  }

  /** `enable-snapshot VOL GID...`: make implicit snapshots explicit. */
  enableSnapshot(volId: string, gids: readonly bigint[]): Promise<void> {
    return this.command("enable-snapshot", [volId, ...gids.map(String)]);
  }

  /** `gc-diff VOL`. */
  gcDiff(volId: string): Promise<void> {
    return this.command("gc-diff", [volId], { count: 1 });
  }

  /** `resize VOL SIZE [zeroclear]`. */
  resize(volId: string, size: string, zeroClear = false): Promise<void> {
    return this.command("resize", zeroClear ? [volId, size, "zeroclear"] : [volId, size]);
  }

  /** `bhash VOL GID [BULK [SCAN]]`: 32 hex digits. */
  blockHash(volId: string, gid: bigint, bulkSize = "64K", scanSize?: string): Promise<string> {
    const params = [volId, String(gid), bulkSize, ...(scanSize === undefined ? [] : [scanSize])];
    return this.request("bhash", (packet) => runBhashClient(packet, params));
  }

  /** `dbg-set-uuid VOL HEX32`. */
  dbgSetUuid(volId: string, uuidHex: string): Promise<void> {
    return this.command("dbg-set-uuid", [volId, uuidHex], { count: 2 });
  }

  /** `dbg-set-state VOL STATE`. */
  dbgSetState(volId: string, state: string): Promise<void> {
    return this.command("dbg-set-state", [volId, state], { count: 2 });
  }

  /** `dbg-set-base VOL METASTATE`. */
  dbgSetBase(volId: string, metaStateText: string): Promise<void> {
    return this.command("dbg-set-base", [volId, metaStateText], { count: 2 });
  }

  // ---- getters ----

  /** `get restorable VOL [all]`. */
  async getRestorable(volId: string, all = false): Promise<GidInfo[]> {
    const lines = await this.getAs("lines", "restorable", all ? [volId, "all"] : [volId]);
    return lines.map(parseGidInfo);
  }

  /** `get restored VOL`: gids, ascending. */
  async getRestored(volId: string): Promise<bigint[]> {
    return (await this.getAs("lines", "restored", [volId])).map((line) => BigInt(line));
  }

  /** `get cold VOL`: gids, ascending. */
  async getCold(volId: string): Promise<bigint[]> {
    return (await this.getAs("lines", "cold", [volId])).map((line) => BigInt(line));
  }

  /** `get restored-path VOL GID`: where the restored image is. */
  getRestoredPath(volId: string, gid: bigint): Promise<string> {
    return this.getAs("string", "restored-path", [volId, gid]);
  }

  /** `get diff VOL GID0 GID1`. */
  async getDiffList(volId: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<MetaDiff[]> {
    return (await this.getAs("lines", "diff", [volId, gid0, gid1])).map(parseDiffLine);
  }

  /** `get applicable-diff VOL GID`. */
  async getApplicableDiffList(volId: string, gid = UINT64_MAX): Promise<MetaDiff[]> {
    return (await this.getAs("lines", "applicable-diff", [volId, gid])).map(parseDiffLine);
  }

  /** `get num-diff VOL GID0 GID1`. */
  getNumDiff(volId: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<bigint> {
    return this.getAs("size", "num-diff", [volId, gid0, gid1]);
  }

  /** `get total-diff-size VOL GID0 GID1` (bytes). */
  getTotalDiffSize(volId: string, gid0 = 0n, gid1 = UINT64_MAX): Promise<bigint> {
    return this.getAs("size", "total-diff-size", [volId, gid0, gid1]);
  }

  /** `get exists-diff VOL B B E E`: the clean diff |B|→|E| exists. */
  async existsDiff(volId: string, gidB: bigint, gidE: bigint): Promise<boolean> {
    return (await this.getAs("size", "exists-diff", [volId, gidB, gidB, gidE, gidE])) !== 0n;
  }

  /** `get exists-base-image VOL`. */
  async existsBaseImage(volId: string): Promise<boolean> {
    return (await this.getAs("size", "exists-base-image", [volId])) !== 0n;
  }

  /** `get base VOL`. */
  async getBase(volId: string): Promise<MetaState> {
    return parseMetaState(await this.getAs("string", "base", [volId]));
  }

  /** `get meta-snap VOL [GID]`. */
  async getMetaSnap(volId: string, gid?: bigint): Promise<MetaSnap> {
    const args = gid === undefined ? [volId] : [volId, gid];
    return parseSnapshot(await this.getAs("string", "meta-snap", args));
  }

  /** `get meta-state VOL 0|1 [GID]`. */
  async getMetaState(volId: string, isApplying: boolean, gid?: bigint): Promise<MetaState> {
    const args = [volId, isApplying ? "1" : "0", ...(gid === undefined ? [] : [String(gid)])];
    return parseMetaState(await this.getAs("string", "meta-state", args));
  }

  /** `get num-action VOL ACTION`. */
  getNumAction(volId: string, action: ArchiveAction): Promise<bigint> {
    return this.getAs("size", "num-action", [volId, action]);
  }

  /** `get uuid VOL`. */
  getUuid(volId: string): Promise<string> {
    return this.getAs("string", "uuid", [volId]);
  }

  /** `get archive-uuid VOL`. */
  getArchiveUuid(volId: string): Promise<string> {
    return this.getAs("string", "archive-uuid", [volId]);
  }

  /** `get vol-size VOL` [lb]. */
  getVolSizeLb(volId: string): Promise<bigint> {
    return this.getAs("size", "vol-size", [volId]);
  }

  /** `get progress VOL` [lb]. */
  getProgressLb(volId: string): Promise<bigint> {
    return this.getAs("size", "progress", [volId]);
  }

  /** `get volume-group`. */
  getVolumeGroup(): Promise<string> {
    return this.getAs("string", "volume-group");
  }
}
