/**
 * Proxy commands (protocol-and-servers.md §1.9.6), typed, with `archive-info`.
 *
 * @module
 */
import { RoleClient } from "./common_commands.ts";
import { type HostInfoForBkp, runArchiveInfoClient } from "./exchanges.ts";

/** A client of one proxy server. */
export class ProxyClient extends RoleClient {
  /** `start VOL`: Stopped → Started. */
  start(volId: string): Promise<void> {
    return this.command("start", [volId]);
  }

  /** `stop VOL [graceful|force|empty]` (asynchronous). */
  stop(volId: string, mode: "graceful" | "force" | "empty" = "graceful"): Promise<void> {
    return this.command("stop", [volId, mode], { confirm: "accept" });
  }

  /** `clear-vol VOL`. */
  clearVol(volId: string): Promise<void> {
    return this.command("clear-vol", [volId], { count: 1 });
  }

  /** `kick [VOL [ARCHIVE]]`: send now (clears send-error flags). */
  kick(volId?: string, archiveName?: string): Promise<void> {
    const params = volId === undefined
      ? []
      : archiveName === undefined
      ? [volId]
      : [volId, archiveName];
    return this.command("kick", params);
  }

  /** `archive-info list VOL`: archive names, sorted. */
  async archiveInfoList(volId: string): Promise<string[]> {
    const reply = await this.request(
      "archive-info",
      (packet) => runArchiveInfoClient(packet, { cmd: "list", volId }),
    );
    return reply as string[];
  }

  /** `archive-info get VOL ARCHIVE`. */
  async archiveInfoGet(volId: string, archiveName: string): Promise<HostInfoForBkp> {
    const reply = await this.request(
      "archive-info",
      (packet) => runArchiveInfoClient(packet, { cmd: "get", volId, archiveName }),
    );
    return reply as HostInfoForBkp;
  }

  /** `archive-info add|update VOL ARCHIVE HOST_INFO`. */
  async archiveInfoSet(
    cmd: "add" | "update",
    volId: string,
    archiveName: string,
    hostInfo: HostInfoForBkp,
  ): Promise<void> {
    await this.request(
      "archive-info",
      (packet) => runArchiveInfoClient(packet, { cmd, volId, archiveName, hostInfo }),
    );
  }

  /** `archive-info delete VOL ARCHIVE`. */
  async archiveInfoDelete(volId: string, archiveName: string): Promise<void> {
    await this.request(
      "archive-info",
      (packet) => runArchiveInfoClient(packet, { cmd: "delete", volId, archiveName }),
    );
  }

  /** `get is-wdiff-send-error VOL ARCHIVE`. */
  async isWdiffSendError(volId: string, archiveName: string): Promise<boolean> {
    return (await this.getAs("size", "is-wdiff-send-error", [volId, archiveName])) !== 0n;
  }
}
