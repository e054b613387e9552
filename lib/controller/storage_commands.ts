/**
 * Storage commands (protocol-and-servers.md §1.9.5), typed.
 *
 * @module
 */
import type { RequestOptions } from "./client.ts";
import { RoleClient } from "./common_commands.ts";
import { runSnapshotClient } from "./exchanges.ts";

/** A client of one storage server. */
export class StorageClient extends RoleClient {
  /** `init-vol VOL WDEV_PATH`: Clear → SyncReady. */
  initVol(volId: string, wdevPath: string): Promise<void> {
    return this.command("init-vol", [volId, wdevPath]);
  }

  /** `clear-vol VOL`: SyncReady → Clear. */
  clearVol(volId: string): Promise<void> {
    return this.command("clear-vol", [volId], { count: 1 });
  }

  /** `reset-vol VOL [GID]`: Stopped → SyncReady (synchronous). */
  resetVol(volId: string, gid?: bigint, options: RequestOptions = {}): Promise<void> {
    const params = gid === undefined ? [volId] : [volId, String(gid)];
    return this.command("reset-vol", params, options);
  }

  /** `start VOL target|standby`. */
  start(volId: string, role: "target" | "standby"): Promise<void> {
    return this.command("start", [volId, role]);
  }

  /** `stop VOL [graceful|force]` (asynchronous: `accept`). */
  stop(volId: string, mode: "graceful" | "force" = "graceful"): Promise<void> {
    return this.command("stop", [volId, mode], { confirm: "accept" });
  }

  /** `full-bkp VOL [BULK_SIZE]` (asynchronous). */
  fullBackup(volId: string, bulkSize?: string): Promise<void> {
    const params = bulkSize === undefined ? [volId] : [volId, bulkSize];
    return this.command("full-bkp", params, { confirm: "accept" });
  }

  /** `hash-bkp VOL [BULK_SIZE]` (asynchronous). */
  hashBackup(volId: string, bulkSize?: string): Promise<void> {
    const params = bulkSize === undefined ? [volId] : [volId, bulkSize];
    return this.command("hash-bkp", params, { confirm: "accept" });
  }

  /** `snapshot VOL`: the gid of the new explicit snapshot. */
  snapshot(volId: string): Promise<bigint> {
    return this.request("snapshot", (packet) => runSnapshotClient(packet, volId));
  }

  /** `kick`: re-check proxies now and run queued wlog tasks. */
  kick(): Promise<void> {
    return this.command("kick", []);
  }

  /** `resize VOL SIZE` (bytes with unit). */
  resize(volId: string, size: string): Promise<void> {
    return this.command("resize", [volId, size]);
  }

  /** `set-full-scan-bps BYTES_PER_SEC` (0 = unlimited). */
  setFullScanBps(bytesPerSec: string): Promise<void> {
    return this.command("set-full-scan-bps", [bytesPerSec]);
  }

  /** `get is-overflow VOL`. */
  async isOverflow(volId: string): Promise<boolean> {
    return (await this.getAs("size", "is-overflow", [volId])) !== 0n;
  }

  /** `get uuid VOL`. */
  getUuid(volId: string): Promise<string> {
    return this.getAs("string", "uuid", [volId]);
  }
}
