/**
 * The proxy's `get` targets (protocol-and-servers.md §3.4): state, host-type, vol, pid,
 * latest-snap, handler-stat, is-wdiff-send-error, proxy-diff.
 *
 * @module
 */
import {
  formatMetaDiffListing,
  formatTimestampPretty,
  type MetaDiff,
} from "../../format/meta/mod.ts";
import { HOST_TYPE } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { checkVolumeId } from "../runtime/format.ts";
import type { GetTarget } from "../runtime/get.ts";
import { PS } from "./constants.ts";
import type { ProxyContext, ProxyVolume } from "./volume.ts";

const FN = "runGetCommandServer";

function volumeArg(context: ProxyContext, args: string[], target: string): ProxyVolume {
  const volId = args[0];
  if (volId === undefined) throw new RequestError(`${FN}:${target}:volId not specified`);
  return context.volume(checkVolumeId(volId, FN));
}

function byBeginGid(a: MetaDiff, b: MetaDiff): number {
  return a.snapB.gidB < b.snapB.gidB ? -1 : a.snapB.gidB > b.snapB.gidB ? 1 : 0;
}

/** `latest-snap` lines of one volume: one per archive. */
function latestSnapLines(volume: ProxyVolume): string[] {
  return volume.archiveNames().map((name) => {
    const diffs = volume.pendingOf(name).all().sort(byBeginGid);
    const last = diffs[diffs.length - 1];
    const gid = last === undefined ? "" : String(last.snapE.gidB);
    const timestamp = last === undefined ? "" : formatTimestampPretty(last.timestamp);
    return `name:${volume.volId}\tkind:proxy\tarchive:${name}\tgid:${gid}\ttimestamp:${timestamp}`;
  });
}

/** The proxy's get target table. */
export function proxyGetTargets(context: ProxyContext): Map<string, GetTarget> {
  const t = new Map<string, GetTarget>();
  const add = (name: string, type: GetTarget["type"], handler: GetTarget["handler"]) =>
    t.set(name, { type, handler });

  add("state", "string", (args) => Promise.resolve(volumeArg(context, args, "state").state.state));
  add("host-type", "string", () => Promise.resolve(HOST_TYPE.proxy));
  add("vol", "lines", () => context.store.listVolumes());
  add("pid", "size", () => Promise.resolve(BigInt(Deno.pid)));
  add("handler-stat", "lines", () => Promise.resolve(context.runtime.stats.takeLines()));
  add("latest-snap", "lines", (args) => {
    if (args[0] === undefined) {
      const lines: string[] = [];
      for (const volId of [...context.volumes.keys()].sort()) {
        const volume = context.volumes.get(volId)!;
        if (volume.state.state !== PS.clear) lines.push(...latestSnapLines(volume));
      }
      return Promise.resolve(lines);
    }
    const volume = volumeArg(context, args, "latest-snap");
    if (volume.state.state === PS.clear) {
      throw new RequestError(`${FN}:latest-snap:no such volume:${volume.volId}`);
    }
    return Promise.resolve(latestSnapLines(volume));
  });
  add("is-wdiff-send-error", "size", (args) => {
    const volume = volumeArg(context, args, "is-wdiff-send-error");
    const name = args[1];
    if (name === undefined) throw new RequestError(`${FN}:archive name not specified`);
    if (volume.state.state === PS.clear) {
      throw new RequestError(`${FN}:is-wdiff-send-error:bad state:${volume.volId}:Clear`);
    }
    if (!volume.archives.has(name)) {
      throw new RequestError(`${FN}:archive not found:${volume.volId}:${name}`);
    }
    return Promise.resolve(volume.sendError.has(name) ? 1n : 0n);
  });
  add("proxy-diff", "lines", (args) => {
    const volume = volumeArg(context, args, "proxy-diff");
    const name = args[1];
    let diffs: MetaDiff[];
    if (name === undefined) diffs = volume.received.all();
    else diffs = volume.archives.has(name) ? volume.pendingOf(name).all() : [];
    return Promise.resolve(diffs.sort(byBeginGid).map(formatMetaDiffListing));
  });
  return t;
}
