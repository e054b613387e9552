/**
 * The archive's `get` targets (protocol-and-servers.md §3.4) plus `restored-path VOL GID`
 * (full path of a restored image; added for the file backend).
 *
 * @module
 */
import { baseImageName, parseImageName, restoredImageName } from "../../archive-backend/mod.ts";
import { uuidHex } from "../../format/wdiff/mod.ts";
import {
  applyToState,
  formatMetaDiffListing,
  formatMetaSnap,
  formatMetaState,
  formatRestorableLine,
  formatTimestampListing,
  formatTimestampPretty,
  GID_NONE,
  type MetaDiff,
  type MetaState,
  metaState,
} from "../../format/meta/mod.ts";
import { HOST_TYPE } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { checkVolumeId, parseU64Param } from "../runtime/format.ts";
import type { GetTarget } from "../runtime/get.ts";
import { verifyState } from "../runtime/state_machine.ts";
import { ACTION_NAMES, ACTIVE_OR_STOPPED, ACTIVE_STATES, AS } from "./constants.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

const FN = "runGetCommandServer";

function volumeArg(context: ArchiveContext, args: string[], target: string): ArchiveVolume {
  const volId = args[0];
  if (volId === undefined) throw new RequestError(`${FN}:${target}:volId not specified`);
  return context.volume(checkVolumeId(volId, FN));
}

function gidRange(args: string[]): [bigint, bigint] {
  const gid0 = args[1] === undefined ? 0n : parseU64Param(args[1], "gid0", FN);
  const gid1 = args[2] === undefined ? GID_NONE : parseU64Param(args[2], "gid1", FN);
  if (gid0 >= gid1) throw new RequestError(`${FN}:bad gid range:${gid0}:${gid1}`);
  return [gid0, gid1];
}

/** Gids of images of `kind` of a volume, ascending. */
async function imageGids(context: ArchiveContext, volId: string, kind: string): Promise<bigint[]> {
  const gids: bigint[] = [];
  for (const image of await context.backend.list()) {
    const parsed = parseImageName(image.name);
    if (parsed?.kind === kind && parsed.volId === volId && parsed.gid !== undefined) {
      gids.push(parsed.gid);
    }
  }
  return gids.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
}

/** The archive's get target table. */
export function archiveGetTargets(context: ArchiveContext): Map<string, GetTarget> {
  const t = new Map<string, GetTarget>();
  const add = (name: string, type: GetTarget["type"], handler: GetTarget["handler"]) =>
    t.set(name, { type, handler });
  const runtime = context.runtime;

  add("state", "string", (args) => Promise.resolve(volumeArg(context, args, "state").state.state));
  add("host-type", "string", () => Promise.resolve(HOST_TYPE.archive));
  add("vol", "lines", () => context.store.listVolumes());
  add("pid", "size", () => Promise.resolve(BigInt(Deno.pid)));
  add("handler-stat", "lines", () => Promise.resolve(runtime.stats.takeLines()));
  add("volume-group", "string", () => Promise.resolve(context.backend.location));
  add("thinpool", "string", () => Promise.resolve(context.backend.thinPool));
  add("ts-delta", "lines", () => Promise.resolve([]));
  add("uuid", "string", (args) => {
    const volume = volumeArg(context, args, "uuid");
    verifyState(volume.state, ACTIVE_STATES, FN);
    return Promise.resolve(uuidHex(volume.uuid));
  });
  add("archive-uuid", "string", (args) => {
    const volume = volumeArg(context, args, "archive-uuid");
    verifyState(volume.state, ACTIVE_STATES, FN);
    return Promise.resolve(uuidHex(volume.archiveUuid));
  });
  add("base", "string", (args) => {
    const volume = volumeArg(context, args, "base");
    verifyState(volume.state, ACTIVE_STATES, FN);
    return Promise.resolve(formatMetaState(volume.base, { withTimestamp: true }));
  });
  add("base-all", "lines", () => {
    const lines: string[] = [];
    for (const volume of context.volumes.values()) {
      if (!ACTIVE_STATES.includes(volume.state.state)) continue;
      lines.push(
        `name:${volume.volId}\tmetastate:${formatMetaState(volume.base, { withTimestamp: true })}`,
      );
    }
    return Promise.resolve(lines);
  });
  add("num-action", "size", (args) => {
    const volume = volumeArg(context, args, "num-action");
    const count = volume.actions.count(args[1] ?? "");
    if (count === undefined) throw new RequestError(`${FN}:num-action:bad action:${args[1]}`);
    if (volume.state.state === AS.clear) throw new RequestError(`${FN}:num-action:Clear volume`);
    return Promise.resolve(BigInt(count));
  });
  add("all-actions", "lines", () => {
    const lines: string[] = [];
    for (const volume of context.volumes.values()) {
      if (!ACTIVE_STATES.includes(volume.state.state)) continue;
      const parts = [volume.volId];
      for (const name of ACTION_NAMES) {
        const sec = volume.actions.lastStartSec(name);
        parts.push(
          name,
          String(volume.actions.count(name)),
          sec === 0 ? "---" : formatTimestampPretty(sec),
        );
      }
      lines.push(parts.join(" "));
    }
    return Promise.resolve(lines);
  });
  const diffsIn = (args: string[]) => {
    const volume = volumeArg(context, args, "diff");
    const [gid0, gid1] = gidRange(args);
    return volume.diffs.all().filter((d) => gid0 <= d.snapB.gidB && d.snapB.gidB < gid1);
  };
  add("diff", "lines", (args) => Promise.resolve(diffsIn(args).map(formatMetaDiffListing)));
  add("num-diff", "size", (args) => Promise.resolve(BigInt(diffsIn(args).length)));
  add(
    "total-diff-size",
    "size",
    (args) => Promise.resolve(diffsIn(args).reduce((sum, d) => sum + BigInt(d.dataSize), 0n)),
  );
  add("applicable-diff", "lines", (args) => {
    const volume = volumeArg(context, args, "applicable-diff");
    const gid = args[1] === undefined ? GID_NONE : parseU64Param(args[1], "gid", FN);
    const list = volume.diffs.applicableList(volume.base.snapB, (_, snap) => snap.gidB <= gid);
    return Promise.resolve(list.map(formatMetaDiffListing));
  });
  add("exists-diff", "size", (args) => {
    const volume = volumeArg(context, args, "exists-diff");
    verifyState(volume.state, ACTIVE_OR_STOPPED, FN);
    if (args.length < 5) throw new RequestError(`${FN}:exists-diff:needs 4 gids`);
    const [bb, be, eb, ee] = args.slice(1, 5).map((a) => parseU64Param(a, "gid", FN));
    const found = volume.diffs.all().some((d) =>
      d.snapB.gidB === bb && d.snapB.gidE === be && d.snapE.gidB === eb && d.snapE.gidE === ee
    );
    return Promise.resolve(found ? 1n : 0n);
  });
  add("exists-base-image", "size", async (args) => {
    const volume = volumeArg(context, args, "exists-base-image");
    return (await context.backend.exists(baseImageName(volume.volId))) ? 1n : 0n;
  });
  add("restored", "lines", async (args) => {
    const volume = volumeArg(context, args, "restored");
    volume.stop.verifyNotStopping(FN, volume.volId);
    verifyState(volume.state, ACTIVE_OR_STOPPED, FN);
    return (await imageGids(context, volume.volId, "restored")).map(String);
  });
  add("restored-path", "string", async (args) => {
    const volume = volumeArg(context, args, "restored-path");
    if (args[1] === undefined) throw new RequestError(`${FN}:restored-path:gid not specified`);
    const gid = parseU64Param(args[1], "gid", FN);
    const name = restoredImageName(volume.volId, gid);
    if (!(await context.backend.exists(name))) {
      throw new RequestError(`${FN}:restored-path:not restored:${volume.volId}:${gid}`);
    }
    return context.backend.path(name);
  });
  add("cold", "lines", async (args) => {
    const volume = volumeArg(context, args, "cold");
    verifyState(volume.state, ACTIVE_OR_STOPPED, FN);
    return (await imageGids(context, volume.volId, "cold")).map(String);
  });
  add("restorable", "lines", (args) => {
    const volume = volumeArg(context, args, "restorable");
    volume.stop.verifyNotStopping(FN, volume.volId);
    if (!ACTIVE_STATES.includes(volume.state.state)) return Promise.resolve([]);
    const all = args[1] === "all";
    return Promise.resolve(
      volume.diffs.restorableList(volume.base, { all }).map(formatRestorableLine),
    );
  });
  add("vol-size", "size", async (args) => {
    const volume = volumeArg(context, args, "vol-size");
    const base = baseImageName(volume.volId);
    if (!(await context.backend.exists(base))) {
      throw new RequestError(`${FN}:vol-size:base image not found:${volume.volId}`);
    }
    return BigInt(await context.backend.sizeBytes(base)) / 512n;
  });
  add(
    "progress",
    "size",
    (args) => Promise.resolve(volumeArg(context, args, "progress").progressLb),
  );
  add("latest-snap", "lines", (args) => {
    const volumes = args[0] === undefined
      ? [...context.volumes.values()]
      : [volumeArg(context, args, "latest-snap")];
    const lines: string[] = [];
    for (const volume of volumes) {
      if (!ACTIVE_OR_STOPPED.includes(volume.state.state)) continue;
      const latest = volume.latestState();
      lines.push(
        `name:${volume.volId}\tkind:archive\tgid:${latest.snapB.gidB}\ttimestamp:${
          formatTimestampListing(latest.timestamp)
        }`,
      );
    }
    if (args[0] !== undefined && lines.length === 0) {
      throw new RequestError(`${FN}:latest-snap:nothing to report:${args[0]}`);
    }
    return Promise.resolve(lines);
  });
  const upTo = (volume: ArchiveVolume, gidText: string | undefined) => {
    const gid = gidText === undefined ? GID_NONE : parseU64Param(gidText, "gid", FN);
    return volume.diffs.applicableList(volume.base.snapB, (_, snap) => snap.gidB <= gid);
  };
  add("meta-snap", "string", (args) => {
    const volume = volumeArg(context, args, "meta-snap");
    return Promise.resolve(formatMetaSnap(stateAfter(volume, upTo(volume, args[1])).snapB));
  });
  add("meta-state", "string", (args) => {
    const volume = volumeArg(context, args, "meta-state");
    if (args[1] !== "0" && args[1] !== "1") {
      throw new RequestError(`${FN}:meta-state:bad flag:${args[1]}`);
    }
    const list = upTo(volume, args[2]);
    const target = stateAfter(volume, list);
    const state = args[1] === "1" && list.length > 0
      ? { ...target, isApplying: true, snapB: volume.base.snapB, snapE: target.snapB }
      : target;
    return Promise.resolve(formatMetaState(state, { withTimestamp: true }));
  });
  return t;
}

/** The base state after `list` (the base itself when empty). */
function stateAfter(volume: ArchiveVolume, list: MetaDiff[]): MetaState {
  if (list.length === 0) return volume.base;
  return applyToState(metaState(volume.base.snapB, volume.base.timestamp), list);
}
