/**
 * Proxy `status` lines (protocol-and-servers.md §4.2.3, §4.2.4).
 *
 * @module
 */
import { formatCompressOpt } from "../../codec/mod.ts";
import { formatTimestampListing, type MetaDiff } from "../../format/meta/mod.ts";
import { checkVolumeId, unitString } from "../runtime/format.ts";
import { PS, WDIFF_SEND_ACTION } from "./constants.ts";
import { formatAddrPort } from "./host_info.ts";
import type { ProxyContext, ProxyVolume } from "./volume.ts";

/** What the global status shows besides the configuration. */
export interface ProxyStatusInfo {
  /** `keepAlive OFF` or `keepAlive ON (idle N intvl N cnt N)`. */
  keepAlive: string;
}

function totalSize(diffs: readonly MetaDiff[]): bigint {
  return diffs.reduce((sum, d) => sum + BigInt(d.dataSize), 0n);
}

function actionOf(volume: ProxyVolume, archiveName: string): string {
  return volume.isSending(archiveName) ? WDIFF_SEND_ACTION : "None";
}

/** The global view. */
export function globalStatus(context: ProxyContext, info: ProxyStatusInfo): Promise<string[]> {
  const runtime = context.runtime;
  const config = context.config;
  const tasks = context.queue.list();
  const lines = [
    "-----ProxyGlobal-----",
    `nodeId ${runtime.serverId}`,
    `baseDir ${config.baseDir}`,
    `maxWdiffSendMb ${Math.floor(config.maxWdiffSendSizeBytes / (1024 * 1024))}`,
    `minDelaySecForRetry ${Math.floor(config.minRetryDelayMs / 1000)}`,
    `maxDelaySecForRetry ${Math.floor(config.maxRetryDelayMs / 1000)}`,
    `retryTimeout ${Math.floor(config.retryTimeoutMs / 1000)}`,
    `maxConnections ${runtime.maxConnections}`,
    `maxForegroundTasks ${runtime.foreground.max}`,
    `maxBackgroundTasks ${config.maxBackgroundTasks}`,
    `socketTimeout ${Math.floor(runtime.timeoutMs / 1000)}`,
    info.keepAlive,
    `-----TaskQueue ${tasks.length}-----`,
  ];
  for (const { task, remainingMs } of tasks) {
    lines.push(`volume ${task.volId} archive ${task.archiveName} timeDiffMs ${remainingMs}`);
  }
  lines.push("-----Volume-----");
  const volIds = [...context.volumes.keys()].sort();
  for (const volId of volIds) {
    const volume = context.volumes.get(volId)!;
    if (volume.state.state === PS.clear) continue;
    const received = volume.received.all();
    lines.push(
      `volume ${volId} state ${volume.state.state} numDiff ${received.length} totalSize ${
        unitString(totalSize(received))
      } timestamp ${formatTimestampListing(volume.lastWlogReceivedSec)}`,
    );
    for (const name of volume.archiveNames()) {
      const pending = volume.pendingOf(name).all();
      let minGid = 0n;
      let maxGid = 0n;
      if (pending.length > 0) {
        minGid = pending.reduce(
          (m, d) => d.snapB.gidB < m ? d.snapB.gidB : m,
          pending[0]!.snapB.gidB,
        );
        maxGid = pending.reduce((m, d) => d.snapE.gidE > m ? d.snapE.gidE : m, 0n);
      }
      lines.push(
        `  archive ${name} action ${actionOf(volume, name)} numDiff ${pending.length} totalSize ${
          unitString(totalSize(pending))
        } minGid ${minGid} maxGid ${maxGid} ${
          formatTimestampListing(volume.lastWdiffSentSec.get(name) ?? 0)
        }`,
      );
    }
  }
  return Promise.resolve(lines);
}

/** The per-volume view. */
export function volumeStatus(context: ProxyContext, volIdText: string): Promise<string[]> {
  const volId = checkVolumeId(volIdText, "c2pStatusServer");
  const volume = context.volume(volId);
  const lines = ["hostType proxy", `volume ${volId}`, `state ${volume.state.state}`];
  if (volume.state.state === PS.clear) return Promise.resolve(lines);
  const received = volume.received.all();
  lines.push(
    `sizeLb ${volume.sizeLb}`,
    `size ${unitString(volume.sizeLb * 512n)}`,
    `numDiff ${received.length}`,
    `totalSize ${unitString(totalSize(received))}`,
    `lastWlogReceivedTime ${formatTimestampListing(volume.lastWlogReceivedSec)}`,
    `totalNumAction ${volume.sendCount()}`,
    "-----Archive-----",
  );
  const nowSec = context.nowSec();
  for (const name of volume.archiveNames()) {
    const info = volume.archives.get(name)!;
    const pending = volume.pendingOf(name).all();
    const oldest = pending.reduce(
      (m, d) => d.timestamp < m ? d.timestamp : m,
      Number.POSITIVE_INFINITY,
    );
    lines.push(
      `  archive ${name}`,
      `  host ${formatAddrPort(info.addrPort)}`,
      `  compression ${formatCompressOpt(info.compression)}`,
      `  wdiffSendDelay ${info.wdiffSendDelaySec}`,
      `  action ${actionOf(volume, name)}`,
      `  numDiff ${pending.length}`,
      `  lastWdiffSentTime ${formatTimestampListing(volume.lastWdiffSentSec.get(name) ?? 0)}`,
      `  isWdiffSendError ${volume.sendError.has(name) ? 1 : 0}`,
      `  wdiffTotalSize ${totalSize(pending)}`,
      `  wdiffSendDelayMeasured ${pending.length === 0 ? 0 : nowSec - oldest}`,
    );
  }
  return Promise.resolve(lines);
}
