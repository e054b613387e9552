/**
 * Archive controller commands (protocol-and-servers.md §1.9.7, §2.5.3): parameter and state
 * checks, replies (`ok` Fin, or `accept` Fin then the work), error texts in place of the
 * status string.
 *
 * @module
 */
import { baseImageName, parseImageName, restoredImageName } from "../../archive-backend/mod.ts";
import { type MetaState, parseTimestampCompact } from "../../format/meta/mod.ts";
import { metaSnap } from "../../format/meta/mod.ts";
import { applyingState, metaState } from "../../format/meta/mod.ts";
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { parseSizeWithUnit, parseU64Param } from "../runtime/format.ts";
import { runCommand, volumeOf } from "../runtime/command.ts";
import type { ServerContext } from "../runtime/server.ts";
import { verifyState } from "../runtime/state_machine.ts";
import {
  ACTION_NAMES,
  ACTIONS,
  ACTIVE_OR_STOPPED,
  ACTIVE_STATES,
  AS,
  STEADY_STATES,
} from "./constants.ts";
import {
  applyToBase,
  changeSnapshots,
  mergeCandidates,
  mergeFiles,
  type MergeLimit,
  removeDiffFiles,
  restore,
} from "./operations.ts";
import { loadVolume } from "./recovery.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

function elapsed(context: ArchiveContext, startMs: number): string {
  return `elapsed_time ${((context.runtime.clock.nowMs() - startMs) / 1000).toFixed(3)} sec`;
}

/** Removes restored (and cold) images and the base image of a volume. */
async function removeImages(context: ArchiveContext, volId: string): Promise<void> {
  for (const image of await context.backend.list()) {
    const parsed = parseImageName(image.name);
    if (parsed?.volId === volId) await context.backend.remove(image.name);
  }
}

/** Parses the MetaState text form `<|B|>`, `<|B,E|>`, `<|B|-->|E|>` with `-YYYYMMDDhhmmss`. */
export function parseMetaStateText(text: string, nowSec: number): MetaState {
  const match = /^<\|(\d+)(?:,(\d+))?\|(?:-->\|(\d+)(?:,(\d+))?\|)?>(?:-(\d{14}))?$/.exec(text);
  if (match === null) throw new RequestError(`parseMetaState:bad text:${text}`);
  const u64 = (s: string) => parseU64Param(s, "gid", "parseMetaState");
  const snapB = metaSnap(u64(match[1]!), u64(match[2] ?? match[1]!));
  if (snapB.gidB > snapB.gidE) throw new RequestError(`parseMetaState:bad snapshot:${text}`);
  let timestamp = nowSec;
  if (match[5] !== undefined) {
    try {
      timestamp = parseTimestampCompact(match[5]);
    } catch (error) {
      throw new RequestError(`parseMetaState:bad timestamp:${text}`, { cause: error });
    }
  }
  if (match[3] === undefined) return metaState(snapB, timestamp);
  const snapE = metaSnap(u64(match[3]), u64(match[4] ?? match[3]));
  if (snapE.gidB > snapE.gidE || snapB.gidB >= snapE.gidB) {
    throw new RequestError(`parseMetaState:bad applying state:${text}`);
  }
  return applyingState(snapB, snapE, timestamp);
}

/** Registers every archive command handler on the runtime. */
export function registerCommands(context: ArchiveContext): void {
  const runtime = context.runtime;
  const register = (
    name: string,
    options: { count?: number; confirm: string },
    body: (server: ServerContext, params: string[]) => Promise<(() => Promise<void>) | void>,
  ) =>
    runtime.register(name, (server) => runCommand(server, name, options, (p) => body(server, p)));

  register("init-vol", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aInitVolServer";
    const volume = volumeOf(context, params, fn);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    const tx = volume.state.begin(AS.clear, AS.initVol, fn);
    try {
      if (await context.store.exists(volume.volId)) {
        throw new RequestError(`${fn}:volume directory exists:${volume.volId}`);
      }
      await context.store.initVolume(volume.volId);
      volume.reset();
      tx.commit(AS.syncReady);
    } finally {
      tx.rollback();
    }
    server.log("INFO", `initVol succeeded:${volume.volId}`);
  });

  const clear = async (volume: ArchiveVolume) => {
    await removeImages(context, volume.volId);
    if (await context.store.exists(volume.volId)) await context.store.removeVolume(volume.volId);
    volume.reset();
  };

  register("clear-vol", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aClearVolServer";
    const volume = volumeOf(context, params, fn);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    const tx = volume.state.beginFromAny([AS.syncReady, AS.stopped], AS.clearVol, fn);
    try {
      await clear(volume);
      tx.commit(AS.clear);
    } finally {
      tx.rollback();
    }
    server.log("INFO", `clearVol succeeded:${volume.volId}`);
  });

  register("reset-vol", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aResetVolServer";
    const volume = volumeOf(context, params, fn);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    const tx = volume.state.beginFromAny([AS.stopped, AS.syncReady], AS.resetVol, fn);
    try {
      await clear(volume);
      await context.store.initVolume(volume.volId);
      tx.commit(AS.syncReady);
    } finally {
      tx.rollback();
    }
    server.log("INFO", `resetVol succeeded:${volume.volId}`);
  });

  register("start", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aStartServer";
    const volume = volumeOf(context, params, fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    const tx = volume.state.begin(AS.stopped, AS.start, fn);
    try {
      const persisted = await context.store.readState(volume.volId);
      if (persisted !== AS.stopped) {
        throw new RequestError(`${fn}:bad persisted state:${persisted}`);
      }
      await context.store.writeState(volume.volId, AS.archived);
      tx.commit(AS.archived);
    } finally {
      tx.rollback();
    }
    server.log("INFO", `start succeeded:${volume.volId}`);
  });

  register("stop", { confirm: STATUS.accept }, (server, params) => {
    const fn = "c2aStopServer";
    const volume = volumeOf(context, params, fn);
    const mode = params[1] ?? "graceful";
    if (mode.startsWith("e")) throw new RequestError(`${fn}:empty mode is not supported`);
    const isForce = mode.startsWith("f");
    volume.stop.begin(isForce ? "ForceStopping" : "Stopping", fn, volume.volId);
    return Promise.resolve(async () => {
      try {
        await waitForSteady(context, volume);
        verifyState(volume.state, [AS.archived], fn);
        const tx = volume.state.begin(AS.archived, AS.stop, fn);
        try {
          await context.store.writeState(volume.volId, AS.stopped);
          tx.commit(AS.stopped);
        } finally {
          tx.rollback();
        }
        server.log("INFO", `stop succeeded:${volume.volId}:${isForce ? "force" : "graceful"}`);
      } finally {
        volume.stop.end();
      }
    });
  });

  const foregroundAction = (volume: ArchiveVolume, fn: string, action: string) => {
    const releaseForeground = runtime.foreground.acquire(fn);
    const endAction = volume.actions.start(action);
    return () => {
      endAction();
      releaseForeground();
    };
  };

  register("restore", { count: 2, confirm: STATUS.accept }, (server, params) => {
    const fn = "c2aRestoreServer";
    const volume = volumeOf(context, params, fn);
    const gid = parseU64Param(params[1]!, "gid", fn);
    return (async () => {
      if (await context.backend.exists(restoredImageName(volume.volId, gid))) {
        throw new RequestError(`${fn}:already restored:${volume.volId}:${gid}`);
      }
      volume.stop.verifyNotStopping(fn, volume.volId);
      verifyState(volume.state, ACTIVE_STATES, fn);
      volume.actions.verifyNotRunning([ACTIONS.restore, ACTIONS.resize], fn, volume.volId);
      if (volume.diffs.diffsToRestore(volume.base, gid) === null) {
        throw new RequestError(`${fn}:can not restore:${volume.volId}:${gid}`);
      }
      const release = foregroundAction(volume, fn, ACTIONS.restore);
      return async () => {
        const startMs = runtime.clock.nowMs();
        try {
          server.log("INFO", `restore started:${volume.volId}:${gid}`);
          await restore(context, volume, gid, server.signal);
          server.log(
            "INFO",
            `restore succeeded:${volume.volId}:${gid}:${elapsed(context, startMs)}`,
          );
        } finally {
          release();
        }
      };
    })();
  });

  register("del-restored", { count: 2, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aDelRestoredServer";
    const volume = volumeOf(context, params, fn);
    const gid = parseU64Param(params[1]!, "gid", fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    verifyState(volume.state, ACTIVE_OR_STOPPED, fn);
    volume.actions.verifyNotRunning([ACTIONS.restore, ACTIONS.resize], fn, volume.volId);
    const name = restoredImageName(volume.volId, gid);
    if (!(await context.backend.exists(name))) {
      throw new RequestError(`${fn}:restored volume not found:${volume.volId}:${gid}`);
    }
    await context.backend.remove(name);
    server.log("INFO", `del-restored succeeded:${volume.volId}:${gid}`);
  });

  register("del-cold", { count: 2, confirm: STATUS.ok }, (_server, params) => {
    const fn = "c2aDelColdServer";
    const volume = volumeOf(context, params, fn);
    parseU64Param(params[1]!, "gid", fn);
    verifyState(volume.state, ACTIVE_OR_STOPPED, fn);
    throw new RequestError(`${fn}:cold snapshot not found:${volume.volId}:${params[1]}`);
  });

  register("apply", { count: 2, confirm: STATUS.accept }, (server, params) => {
    const fn = "c2aApplyServer";
    const volume = volumeOf(context, params, fn);
    const gid = parseU64Param(params[1]!, "gid", fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    volume.actions.verifyNotRunning(
      [ACTIONS.restore, ACTIONS.replSyncAsClient, ACTIONS.apply, ACTIONS.merge, ACTIONS.resize],
      fn,
      volume.volId,
    );
    verifyState(volume.state, ACTIVE_STATES, fn);
    if (volume.diffs.diffsToApply(volume.base, gid).length === 0) {
      throw new RequestError(`${fn}:There is no diff to apply:${volume.volId}:${gid}`);
    }
    const release = foregroundAction(volume, fn, ACTIONS.apply);
    return Promise.resolve(async () => {
      const startMs = runtime.clock.nowMs();
      try {
        server.log("INFO", `apply started:${volume.volId}:${gid}`);
        await applyToBase(context, volume, gid, server.signal);
        server.log("INFO", `apply succeeded:${volume.volId}:${gid}:${elapsed(context, startMs)}`);
      } finally {
        release();
      }
    });
  });

  register("merge", { count: 4, confirm: STATUS.accept }, (server, params) => {
    const fn = "c2aMergeServer";
    const volume = volumeOf(context, params, fn);
    const gidB = parseU64Param(params[1]!, "gidB", fn);
    const kind = params[2]!;
    let limit: MergeLimit;
    if (kind === "size") limit = { kind, sizeMiB: parseU64Param(params[3]!, "size", fn) };
    else if (kind === "gid") {
      limit = { kind, gidE: parseU64Param(params[3]!, "gidE", fn) };
      if (limit.gidE <= gidB) throw new RequestError(`${fn}:bad gid range:${gidB}:${limit.gidE}`);
    } else throw new RequestError(`${fn}:bad type:${kind}`);
    volume.stop.verifyNotStopping(fn, volume.volId);
    volume.actions.verifyNotRunning(
      [ACTIONS.apply, ACTIONS.merge, ACTIONS.resize],
      fn,
      volume.volId,
    );
    verifyState(volume.state, ACTIVE_STATES, fn);
    if (volume.base.isApplying) throw new RequestError(`${fn}:under applying:${volume.volId}`);
    const diffs = mergeCandidates(volume, gidB, limit);
    if (diffs.length < 2) {
      throw new RequestError(`${fn}:There is no mergeable diff:${volume.volId}`);
    }
    const release = foregroundAction(volume, fn, ACTIONS.merge);
    return Promise.resolve(async () => {
      const startMs = runtime.clock.nowMs();
      try {
        server.log("INFO", `merge started:${volume.volId}:${gidB}`);
        await mergeFiles(context, volume, diffs, server.signal);
        server.log("INFO", `merge succeeded:${volume.volId}:${gidB}:${elapsed(context, startMs)}`);
      } finally {
        release();
      }
    });
  });

  for (const [name, enable] of [["enable-snapshot", true], ["disable-snapshot", false]] as const) {
    register(name, { confirm: STATUS.ok }, async (server, params) => {
      const fn = `c2a${enable ? "Enable" : "Disable"}SnapshotServer`;
      const volume = volumeOf(context, params, fn);
      if (params.length < 2) throw new RequestError(`${fn}:gid not specified`);
      const gids = params.slice(1).map((p) => parseU64Param(p, "gid", fn));
      verifyState(volume.state, ACTIVE_STATES, fn);
      volume.actions.verifyNotRunning([ACTIONS.apply, ACTIONS.merge], fn, volume.volId);
      await changeSnapshots(context, volume, gids, enable);
      server.log("INFO", `${name} succeeded:${volume.volId}:${gids.join(",")}`);
    });
  }

  register("resize", { confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aResizeServer";
    const volume = volumeOf(context, params, fn);
    if (params.length < 2) throw new RequestError(`${fn}:size not specified`);
    const sizeLb = parseSizeWithUnit(params[1]!, fn) / 512n;
    if (sizeLb === 0n) throw new RequestError(`${fn}:size must not be 0`);
    const zeroClear = params[2] === "zeroclear";
    if (params[2] !== undefined && !zeroClear) {
      throw new RequestError(`${fn}:bad param:${params[2]}`);
    }
    volume.stop.verifyNotStopping(fn, volume.volId);
    volume.actions.verifyNotRunning(
      [ACTIONS.restore, ACTIONS.replSyncAsClient, ACTIONS.apply, ACTIONS.resize],
      fn,
      volume.volId,
    );
    verifyState(volume.state, [AS.syncReady, ...ACTIVE_OR_STOPPED], fn);
    const end = volume.actions.start(ACTIONS.resize);
    try {
      const base = baseImageName(volume.volId);
      const oldSize = await context.backend.sizeBytes(base);
      const newSize = Number(sizeLb * 512n);
      if (newSize < oldSize) {
        throw new RequestError(`${fn}:shrink is not supported:${oldSize}:${newSize}`);
      }
      await context.backend.resize(base, newSize);
      // Sparse files read the grown area as zeros: zero-clear needs no write.
      server.log("INFO", `resize succeeded:${volume.volId}:${newSize}`);
    } finally {
      end();
    }
  });

  register("gc-diff", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2aGarbageCollectDiffServer";
    const volume = volumeOf(context, params, fn);
    verifyState(volume.state, ACTIVE_OR_STOPPED, fn);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    await volume.locked(async () => {
      const garbage = volume.diffs.gc(volume.base.snapB);
      await removeDiffFiles(context, volume, garbage);
      server.log("INFO", `gc-diff succeeded:${volume.volId}:${garbage.length}`);
    });
  });

  register("dbg-reload-metadata", { count: 1, confirm: STATUS.ok }, async (_server, params) => {
    const fn = "c2aReloadMetadataServer";
    const volume = volumeOf(context, params, fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    volume.actions.verifyNotRunning(ACTION_NAMES, fn, volume.volId);
    if (volume.state.state !== AS.clear) await loadVolume(context, volume, { checkState: false });
  });

  register("dbg-set-uuid", { count: 2, confirm: STATUS.ok }, async (_server, params) => {
    const fn = "c2aSetUuidServer";
    const volume = volumeOf(context, params, fn);
    const hex = params[1]!;
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RequestError(`${fn}:bad uuid:${hex}`);
    verifyState(volume.state, [AS.syncReady, ...ACTIVE_OR_STOPPED], fn);
    const uuid = Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
    await context.store.writeUuid(volume.volId, uuid);
    volume.uuid = uuid;
  });

  register("dbg-set-state", { count: 2, confirm: STATUS.ok }, async (_server, params) => {
    const fn = "c2aSetStateServer";
    const volume = volumeOf(context, params, fn);
    const state = params[1]!;
    if (!STEADY_STATES.includes(state)) throw new RequestError(`${fn}:bad state:${state}`);
    if (volume.state.inTransaction) {
      throw new RequestError(`${fn}:under transaction:${volume.volId}`);
    }
    // validate and persist first, so a refused or failed request changes nothing (the
    // original sets the in-memory state before failing on Clear)
    if (state === AS.clear) {
      throw new RequestError(`${fn}:Clear cannot be persisted:${volume.volId}`);
    }
    await context.store.writeState(volume.volId, state);
    volume.state.set(state);
  });

  register("dbg-set-base", { count: 2, confirm: STATUS.ok }, async (_server, params) => {
    const fn = "c2aSetBaseServer";
    const volume = volumeOf(context, params, fn);
    const base = parseMetaStateText(params[1]!, context.nowSec());
    verifyState(volume.state, [AS.syncReady, ...ACTIVE_OR_STOPPED], fn);
    await context.store.writeBase(volume.volId, base);
    volume.base = base;
  });
}

/** Stop waits at most this long for a steady state without actions (§1.7). */
const STOP_WAIT_MS = 60_000;

async function waitForSteady(context: ArchiveContext, volume: ArchiveVolume): Promise<void> {
  const clock = context.runtime.clock;
  const deadline = clock.nowMs() + STOP_WAIT_MS;
  while (volume.state.inTransaction || volume.actions.total() > 0) {
    if (clock.nowMs() >= deadline) {
      throw new RequestError(`c2aStopServer:timeout waiting for steady state:${volume.volId}`);
    }
    await clock.sleep(100);
  }
}
