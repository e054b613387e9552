/**
 * Storage `status` lines (protocol-and-servers.md §4.2.1, §4.2.2).
 *
 * @module
 */
import { formatTimestampListing, type MetaLsidGid } from "../../format/meta/mod.ts";
import { uuidHex } from "../../format/wdiff/mod.ts";
import { formatNetAddr } from "../../net.ts";
import { checkVolumeId, unitString } from "../runtime/format.ts";
import { ACTIONS, PROXY_CHECK_INTERVAL_MS, SS } from "./constants.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/** What the global status shows besides the configuration. */
export interface StorageStatusInfo {
  /** `keepAlive OFF` or `keepAlive ON (idle N intvl N cnt N)`. */
  keepAlive: string;
}

/** `host <addr>:<port>:<port>` (the original prints the port twice). */
function hostText(addr: Parameters<typeof formatNetAddr>[0]): string {
  const text = formatNetAddr(addr);
  return "port" in addr ? `${text}:${addr.port}` : text;
}

function lsidGidLine(record: MetaLsidGid): string {
  return `LsidGid timestamp ${formatTimestampListing(record.timestamp)} isMergeable ${
    record.isMergeable ? 1 : 0
  } lsid ${record.lsid} gid ${record.gid}`;
}

/** The global view. */
export async function globalStatus(
  context: StorageContext,
  info: StorageStatusInfo,
): Promise<string[]> {
  const runtime = context.runtime;
  const config = context.config;
  const now = runtime.clock.nowMs();
  const interval = config.proxyCheckIntervalMs ?? PROXY_CHECK_INTERVAL_MS;
  const lines = [
    "-----StorageGlobal-----",
    `nodeId ${runtime.serverId}`,
    `baseDir ${config.baseDir}`,
    `maxWlogSendMb ${Math.floor(config.maxWlogSendBytes / (1024 * 1024))}`,
    `minDelaySecForRetry ${Math.floor(config.minRetryDelayMs / 1000)}`,
    `maxDelaySecForRetry ${Math.floor(config.maxRetryDelayMs / 1000)}`,
    `maxConnections ${runtime.maxConnections}`,
    `maxForegroundTasks ${runtime.foreground.max}`,
    `maxBackgroundTasks ${config.maxBackgroundTasks}`,
    `socketTimeout ${Math.floor(runtime.timeoutMs / 1000)}`,
    info.keepAlive,
    `fullScanLbPerSec ${Math.floor(context.fullScanBytesPerSec / 512)}`,
    "-----Archive-----",
    `host ${hostText(config.archive)}`,
    "-----Proxy-----",
  ];
  for (const entry of context.proxies) {
    const sinceSec = Number.isFinite(entry.lastCheckMs)
      ? Math.floor((now - entry.lastCheckMs) / 1000)
      : Math.floor(interval / 1000);
    lines.push(
      `host ${hostText(entry.addr)} isAvailable ${entry.isAvailable ? 1 : 0} timeToNextCheck ${
        Math.floor(interval / 1000) - sinceSec
      }`,
    );
  }
  lines.push("-----TaskQueue-----");
  for (const { task, remainingMs } of context.queue.list()) {
    lines.push(`volume ${task.volId} timeDiffMs ${remainingMs}`);
  }
  lines.push("-----Volume-----");
  for (const volId of [...context.volumes.keys()].sort()) {
    const volume = context.volumes.get(volId)!;
    if (volume.state.state === SS.clear) continue;
    lines.push(await volumeLine(context, volume));
  }
  return lines;
}

async function volumeLine(context: StorageContext, volume: StorageVolume): Promise<string> {
  let usage = "?";
  let capacity = "?";
  let oldest = "?";
  let permanent = "?";
  try {
    const device = await context.deviceOf(volume);
    const lsids = await device.lsids();
    usage = String(await device.logUsage());
    capacity = String(await device.logCapacity());
    oldest = String(lsids.oldest);
    permanent = String(lsids.permanent);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
  }
  return `volume ${volume.volId} state ${volume.state.state} logUsagePb ${usage} logCapacityPb ${capacity} oldestGid ${volume.done.gid} latestGid ${volume.latestRecord().gid} oldestLsid ${oldest} permanentLsid ${permanent}`;
}

/** The per-volume view. */
export async function volumeStatus(context: StorageContext, volIdText: string): Promise<string[]> {
  const volId = checkVolumeId(volIdText, "c2sStatusServer");
  const volume = context.volume(volId);
  const lines = ["hostType storage", `volId ${volId}`, `state ${volume.state.state}`];
  if (volume.state.state === SS.clear) return lines;
  lines.push(
    `action ${ACTIONS.wlogSend} ${volume.actions.count(ACTIONS.wlogSend)} ${ACTIONS.wlogRemove} ${
      volume.actions.count(ACTIONS.wlogRemove)
    }`,
    `stopState ${volume.stop.state}`,
    `isUnderMonitoring ${volume.isMonitored ? 1 : 0}`,
    `wdevPath ${volume.wdevPath}`,
  );
  const device = await context.deviceOf(volume);
  const [sizeLb, isOverflow, usage, capacity, sup] = await Promise.all([
    device.sizeLb(),
    device.isOverflow(),
    device.logUsage(),
    device.logCapacity(),
    device.readSuper(),
  ]);
  lines.push(
    `sizeLb ${sizeLb}`,
    `size ${unitString(sizeLb * 512n)}`,
    `isOverflow ${isOverflow ? 1 : 0}`,
    `logUsagePb ${usage}`,
    `logCapacityPb ${capacity}`,
    `uuid ${uuidHex(volume.uuid)}`,
    `pbs ${sup.pbs}`,
    `salt ${sup.salt.toString(16)}`,
    "-----DoneFile-----",
    lsidGidLine(volume.done),
    "-----QueueFile-----",
    ...volume.queue.map(lsidGidLine),
  );
  return lines;
}
