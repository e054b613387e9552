/**
 * Archive `status` lines (protocol-and-servers.md §4.2.5, §4.2.6).
 *
 * @module
 */
import { baseImageName } from "../../archive-backend/mod.ts";
import { uuidHex } from "../../format/wdiff/mod.ts";
import { formatMetaSnap, formatMetaState, formatTimestampListing } from "../../format/meta/mod.ts";
import { checkVolumeId, unitString } from "../runtime/format.ts";
import { ACTION_NAMES, ACTIVE_STATES, AS } from "./constants.ts";
import type { ArchiveContext } from "./volume.ts";

/** Options shown by the global status. */
export interface ArchiveStatusInfo {
  keepAlive: string;
  doAutoResize: boolean;
  keepOneColdSnapshot: boolean;
}

/** The global view. */
export async function globalStatus(
  context: ArchiveContext,
  info: ArchiveStatusInfo,
): Promise<string[]> {
  const runtime = context.runtime;
  const lines = [
    "-----ArchiveGlobal-----",
    `nodeId ${runtime.serverId}`,
    `baseDir ${context.config.baseDir}`,
    `volumeGroup ${context.backend.location}`,
  ];
  if (context.backend.thinPool !== "") lines.push(`thinpool ${context.backend.thinPool}`);
  lines.push(
    `maxConnections ${runtime.maxConnections}`,
    `maxForegroundTasks ${runtime.foreground.max}`,
    `socketTimeout ${Math.floor(runtime.timeoutMs / 1000)}`,
    info.keepAlive,
    `doAutoResize ${info.doAutoResize ? 1 : 0}`,
    `keepOneColdSnapshot ${info.keepOneColdSnapshot ? 1 : 0}`,
    "-----Volume-----",
  );
  for (const volId of await context.store.listVolumes()) {
    const volume = context.volume(volId);
    if (volume.state.state === AS.clear) continue;
    let line =
      `volume ${volId} state ${volume.state.state} totalNumAction ${volume.actions.total()}` +
      ` stopState ${volume.stop.state} lastSyncTime ${
        formatTimestampListing(volume.lastSyncTimeSec)
      }` +
      ` lastWdiffReceivedTime ${formatTimestampListing(volume.lastWdiffReceivedSec)}` +
      ` numDiff ${volume.diffs.size}`;
    const base = baseImageName(volId);
    if (await context.backend.exists(base)) {
      line += ` latestSnapshot ${formatMetaSnap(volume.latestSnap())} size ${
        unitString(BigInt(await context.backend.sizeBytes(base)))
      }`;
    } else {
      line += " baseLv NOT FOUND";
    }
    lines.push(line);
  }
  return lines;
}

/** The per-volume view. */
export async function volumeStatus(context: ArchiveContext, volIdText: string): Promise<string[]> {
  const volId = checkVolumeId(volIdText, "c2aStatusServer");
  const volume = context.volume(volId);
  const lines = ["hostType archive", `volume ${volId}`, `state ${volume.state.state}`];
  if (volume.state.state === AS.clear) return lines;
  lines.push(
    "action " + ACTION_NAMES.map((name) => `${name} ${volume.actions.count(name)}`).join(" "),
    `stopState ${volume.stop.state}`,
    `lastSyncTime ${formatTimestampListing(volume.lastSyncTimeSec)}`,
    `lastWdiffReceivedTime ${formatTimestampListing(volume.lastWdiffReceivedSec)}`,
    `progressLb ${volume.progressLb}`,
  );
  const base = baseImageName(volId);
  if (!(await context.backend.exists(base))) {
    lines.push("baseLv NOT FOUND");
    return lines;
  }
  const sizeBytes = BigInt(await context.backend.sizeBytes(base));
  const active = ACTIVE_STATES.includes(volume.state.state);
  const restorable = active ? volume.diffs.restorableList(volume.base).length : 0;
  const restorableAll = active ? volume.diffs.restorableList(volume.base, { all: true }).length : 0;
  let restored = 0;
  for (const image of await context.backend.list()) {
    if (image.name.startsWith(`wr_${volId}_`) && !image.name.endsWith("_tmp")) restored++;
  }
  const wdiffTotal = volume.diffs.all().reduce((sum, d) => sum + d.dataSize, 0);
  lines.push(
    `sizeLb ${sizeBytes / 512n}`,
    `size ${unitString(sizeBytes)}`,
    `uuid ${uuidHex(volume.uuid)}`,
    `archiveUuid ${uuidHex(volume.archiveUuid)}`,
    `base ${formatMetaState(volume.base)}`,
    `latest ${formatMetaSnap(volume.latestSnap())}`,
    `numCold 0`,
    `numRestored ${restored}`,
    `numRestorable ${restorable}`,
    `numRestorableAll ${restorableAll}`,
    `numDiff ${volume.diffs.size}`,
    `wdiffTotalSize ${wdiffTotal}`,
    "fullReplState None",
  );
  return lines;
}
