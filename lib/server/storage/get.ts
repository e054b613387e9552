/**
 * The storage's `get` targets (protocol-and-servers.md §3.4): state, host-type, vol, pid,
 * latest-snap, handler-stat, is-overflow, log-usage, uuid, ts-delta.
 *
 * @module
 */
import { formatTimestampPretty } from "../../format/meta/mod.ts";
import { uuidHex } from "../../format/wdiff/mod.ts";
import { HOST_TYPE } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { checkVolumeId } from "../runtime/format.ts";
import type { GetTarget } from "../runtime/get.ts";
import { SS } from "./constants.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

const FN = "runGetCommandServer";

function volumeArg(context: StorageContext, args: string[], target: string): StorageVolume {
  const volId = args[0];
  if (volId === undefined) throw new RequestError(`${FN}:${target}:volId not specified`);
  return context.volume(checkVolumeId(volId, FN));
}

function notClear(volume: StorageVolume, target: string): StorageVolume {
  if (volume.state.state === SS.clear) {
    throw new RequestError(`${FN}:${target}:bad state:${volume.volId}:Clear`);
  }
  return volume;
}

function latestSnapLine(volume: StorageVolume): string {
  const record = volume.latestRecord();
  return `name:${volume.volId}\tkind:storage\tgid:${record.gid}\tlsid:${record.lsid}\ttimestamp:${
    formatTimestampPretty(record.timestamp)
  }`;
}

async function logUsageLine(context: StorageContext, volume: StorageVolume): Promise<string> {
  const device = await context.deviceOf(volume);
  const [usage, capacity, sup] = await Promise.all([
    device.logUsage(),
    device.logCapacity(),
    device.readSuper(),
  ]);
  return `name:${volume.volId}\tusage_pb:${usage}\tcapacity_pb:${capacity}\tpbs:${sup.pbs}`;
}

function sortedVolumes(context: StorageContext): StorageVolume[] {
  return [...context.volumes.keys()].sort().map((volId) => context.volumes.get(volId)!);
}

/** The storage's get target table. */
export function storageGetTargets(context: StorageContext): Map<string, GetTarget> {
  const t = new Map<string, GetTarget>();
  const add = (name: string, type: GetTarget["type"], handler: GetTarget["handler"]) =>
    t.set(name, { type, handler });

  add("state", "string", (args) => Promise.resolve(volumeArg(context, args, "state").state.state));
  add("host-type", "string", () => Promise.resolve(HOST_TYPE.storage));
  add("vol", "lines", () => context.store.listVolumes());
  add("pid", "size", () => Promise.resolve(BigInt(Deno.pid)));
  add("handler-stat", "lines", () => Promise.resolve(context.runtime.stats.takeLines()));
  add("latest-snap", "lines", (args) => {
    if (args[0] === undefined) {
      return Promise.resolve(
        sortedVolumes(context).filter((v) => v.state.state === SS.target).map(latestSnapLine),
      );
    }
    const volume = volumeArg(context, args, "latest-snap");
    if (volume.state.state !== SS.target) {
      throw new RequestError(`${FN}:latest-snap:not target:${volume.volId}`);
    }
    return Promise.resolve([latestSnapLine(volume)]);
  });
  add("is-overflow", "size", async (args) => {
    const volume = notClear(volumeArg(context, args, "is-overflow"), "is-overflow");
    return (await (await context.deviceOf(volume)).isOverflow()) ? 1n : 0n;
  });
  add("log-usage", "lines", async (args) => {
    if (args[0] === undefined) {
      const lines: string[] = [];
      for (const volume of sortedVolumes(context)) {
        if (volume.state.state !== SS.clear) lines.push(await logUsageLine(context, volume));
      }
      return lines;
    }
    const volume = notClear(volumeArg(context, args, "log-usage"), "log-usage");
    return [await logUsageLine(context, volume)];
  });
  add("uuid", "string", (args) => {
    const volume = notClear(volumeArg(context, args, "uuid"), "uuid");
    return Promise.resolve(uuidHex(volume.uuid));
  });
  add("ts-delta", "lines", () => Promise.resolve([...context.tsDelta]));
  return t;
}
