/**
 * Storage controller commands (protocol-and-servers.md §1.9.5, §2.5.1): `init-vol`,
 * `clear-vol`, `reset-vol`, `start`, `stop`, `snapshot`, `kick`, `resize`,
 * `set-full-scan-bps`, with their parameter and state checks and error texts in place of the
 * status string. `full-bkp` is in full_backup.ts; `exec` is served by the runtime (exec.ts).
 *
 * @module
 */
import { metaLsidGid } from "../../format/meta/mod.ts";
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import { finClose, receiveStringVector, sendErrorReply } from "../../protocol/reply.ts";
import { parseSizeWithUnit, parseU64Param } from "../runtime/format.ts";
import { runCommand, volumeOf } from "../runtime/command.ts";
import type { ServerContext } from "../runtime/server.ts";
import { verifyState } from "../runtime/state_machine.ts";
import { ACTION_NAMES, SS, STOP_POLL_MS, STOP_WAIT_MS, U64_MAX } from "./constants.ts";
import { serveFullBackup } from "./full_backup.ts";
import { dumpLogpackHeader } from "./logpack_dump.ts";
import { startMonitoring, stopMonitoring } from "./monitor.ts";
import { kickProxies } from "./proxy_monitor.ts";
import { resetLogAndRecords, takeVolumeSnapshot } from "./records.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/** Wraps device errors (WalbDeviceError, I/O) into a RequestError with context. */
async function deviceStep<T>(fn: string, volId: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof RequestError || !(error instanceof Error)) throw error;
    throw new RequestError(`${fn}:${volId}:${error.message}`, { cause: error });
  }
}

async function verifyPersistedState(
  context: StorageContext,
  volume: StorageVolume,
  expected: string,
  fn: string,
): Promise<void> {
  const persisted = await context.store.readState(volume.volId);
  if (persisted !== expected) {
    throw new RequestError(`${fn}:bad persisted state:${volume.volId}:${persisted}:${expected}`);
  }
}

async function initVolume(context: StorageContext, params: string[]): Promise<void> {
  const fn = "c2sInitVolServer";
  const volume = volumeOf(context, params, fn);
  const wdevPath = params[1]!;
  for (const other of context.volumes.values()) {
    if (other !== volume && other.wdevPath === wdevPath && other.state.state !== SS.clear) {
      throw new RequestError(`${fn}:walb device already in use:${wdevPath}:${other.volId}`);
    }
  }
  if (!(await context.devices.exists(context.config.baseDir))) {
    throw new RequestError(`${fn}:base directory not found:${context.config.baseDir}`);
  }
  if (!(await context.devices.exists(wdevPath))) {
    throw new RequestError(`${fn}:walb device not found:${wdevPath}`);
  }
  const tx = volume.state.begin(SS.clear, SS.initVol, fn);
  try {
    if (await context.store.exists(volume.volId)) {
      throw new RequestError(`${fn}:volume directory exists:${volume.volId}`);
    }
    const device = await deviceStep(fn, volume.volId, async () => {
      const opened = await context.devices.open(wdevPath);
      await opened.lsids();
      return opened;
    });
    const done = metaLsidGid(U64_MAX, U64_MAX, { timestamp: context.nowSec() });
    const queueSalt = context.randomU32();
    await context.store.initVolume(volume.volId, { wdevPath, done, queueSalt });
    volume.reset();
    volume.wdevPath = wdevPath;
    volume.done = done;
    volume.queueSalt = queueSalt;
    volume.device = device;
    tx.commit(SS.syncReady);
  } finally {
    tx.rollback();
  }
}

async function clearVolume(context: StorageContext, volume: StorageVolume): Promise<void> {
  const fn = "c2sClearVolServer";
  volume.stop.verifyNotStopping(fn, volume.volId);
  const tx = volume.state.begin(SS.syncReady, SS.clearVol, fn);
  try {
    stopMonitoring(volume);
    context.dropTask(volume.volId);
    await context.store.removeVolume(volume.volId);
    await volume.device?.close();
    volume.device = undefined;
    volume.reset();
    tx.commit(SS.clear);
  } finally {
    tx.rollback();
  }
}

async function resetVolume(
  context: StorageContext,
  volume: StorageVolume,
  gid: bigint,
): Promise<void> {
  const fn = "c2sResetVolServer";
  volume.stop.verifyNotStopping(fn, volume.volId);
  const tx = volume.state.begin(SS.stopped, SS.reset, fn);
  try {
    const device = await deviceStep(fn, volume.volId, () => context.deviceOf(volume));
    await deviceStep(fn, volume.volId, () => resetLogAndRecords(context, volume, device, gid));
    await context.store.writeState(volume.volId, SS.syncReady);
    tx.commit(SS.syncReady);
  } finally {
    tx.rollback();
  }
}

async function startVolume(
  context: StorageContext,
  volume: StorageVolume,
  role: string,
): Promise<void> {
  const fn = "c2sStartServer";
  volume.stop.verifyNotStopping(fn, volume.volId);
  if (role === "target") {
    const device = await deviceStep(fn, volume.volId, () => context.deviceOf(volume));
    if (await deviceStep(fn, volume.volId, () => device.isOverflow())) {
      throw new RequestError(`${fn}:log overflow:${volume.volId}`);
    }
    const tx = volume.state.begin(SS.stopped, SS.startTarget, fn);
    try {
      await verifyPersistedState(context, volume, SS.stopped, fn);
      startMonitoring(context, volume);
      await context.store.writeState(volume.volId, SS.target);
      tx.commit(SS.target);
    } catch (error) {
      stopMonitoring(volume);
      throw error;
    } finally {
      tx.rollback();
    }
    context.pushTask(volume.volId, 0);
    return;
  }
  if (role !== "standby") throw new RequestError(`${fn}:bad role:${role}`);
  const tx = volume.state.begin(SS.syncReady, SS.startStandby, fn);
  try {
    await verifyPersistedState(context, volume, SS.syncReady, fn);
    const device = await deviceStep(fn, volume.volId, () => context.deviceOf(volume));
    if (await deviceStep(fn, volume.volId, () => device.isOverflow())) {
      await deviceStep(fn, volume.volId, () => resetLogAndRecords(context, volume, device, 0n));
    }
    startMonitoring(context, volume);
    await context.store.writeState(volume.volId, SS.standby);
    tx.commit(SS.standby);
  } catch (error) {
    stopMonitoring(volume);
    throw error;
  } finally {
    tx.rollback();
  }
}

/** Polls until the volume is steady with no wlog action; fails after STOP_WAIT_MS. */
async function waitForQuiet(context: StorageContext, volume: StorageVolume, fn: string) {
  const clock = context.runtime.clock;
  const deadline = clock.nowMs() + STOP_WAIT_MS;
  const busy = () =>
    volume.state.inTransaction ||
    ACTION_NAMES.some((name) => (volume.actions.count(name) ?? 0) > 0);
  while (busy()) {
    if (clock.nowMs() >= deadline) throw new RequestError(`${fn}:timeout:${volume.volId}`);
    await clock.sleep(STOP_POLL_MS);
  }
}

/** The asynchronous part of `stop` (§1.9.5). */
export async function stopVolume(
  context: StorageContext,
  volume: StorageVolume,
  isForce: boolean,
): Promise<void> {
  const fn = "c2sStopServer";
  try {
    if (isForce) volume.forceStop.abort(new Error("force stop"));
    await waitForQuiet(context, volume, fn);
    verifyState(volume.state, [SS.target, SS.standby], fn);
    const isTarget = volume.state.state === SS.target;
    const tx = isTarget
      ? volume.state.begin(SS.target, SS.stopTarget, fn)
      : volume.state.begin(SS.standby, SS.stopStandby, fn);
    try {
      stopMonitoring(volume);
      context.dropTask(volume.volId);
      const to = isTarget ? SS.stopped : SS.syncReady;
      await context.store.writeState(volume.volId, to);
      tx.commit(to);
    } finally {
      tx.rollback();
    }
  } finally {
    volume.stop.end();
    if (volume.forceStop.signal.aborted) volume.forceStop = new AbortController();
  }
}

/** `snapshot` (§1.9.5): `"ok"` then the gid as `vu64` (Fin), then a wlog task. */
async function serveSnapshot(context: StorageContext, server: ServerContext): Promise<void> {
  const fn = "c2sSnapshotServer";
  let gid: bigint;
  let volume: StorageVolume;
  try {
    const params = await receiveStringVector(server.packet, { count: 1 });
    volume = volumeOf(context, params, fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    verifyState(volume.state, [SS.target, SS.stopped], fn);
    const device = await deviceStep(fn, volume.volId, () => context.deviceOf(volume));
    const record = await deviceStep(
      fn,
      volume.volId,
      () => takeVolumeSnapshot(context, volume, device, false),
    );
    gid = record.gid;
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    server.log("WARNING", error.message);
    await sendErrorReply(server.packet, error.message);
    return;
  }
  server.packet.writeString(STATUS.ok).writeU64(gid);
  await finClose(server.packet);
  server.log("INFO", `snapshot succeeded:${volume.volId}:${gid}`);
  if (volume.state.state === SS.target) context.pushTask(volume.volId, 0);
}

/** Registers every storage command handler on the runtime. */
export function registerCommands(context: StorageContext): void {
  const runtime = context.runtime;
  const register = (
    name: string,
    options: { count?: number; confirm: string },
    body: (server: ServerContext, params: string[]) => Promise<(() => Promise<void>) | void>,
  ) =>
    runtime.register(name, (server) => runCommand(server, name, options, (p) => body(server, p)));

  register("init-vol", { count: 2, confirm: STATUS.ok }, async (server, params) => {
    await initVolume(context, params);
    server.log("INFO", `initVol succeeded:${params[0]}:${params[1]}`);
  });

  register("clear-vol", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const volume = volumeOf(context, params, "c2sClearVolServer");
    await clearVolume(context, volume);
    server.log("INFO", `clearVol succeeded:${volume.volId}`);
  });

  register("reset-vol", { confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2sResetVolServer";
    const volume = volumeOf(context, params, fn);
    const gid = params[1] === undefined ? 0n : parseU64Param(params[1], "gid", fn);
    await resetVolume(context, volume, gid);
    server.log("INFO", `resetVol succeeded:${volume.volId}:${gid}`);
  });

  register("start", { count: 2, confirm: STATUS.ok }, async (server, params) => {
    const volume = volumeOf(context, params, "c2sStartServer");
    await startVolume(context, volume, params[1]!);
    server.log("INFO", `start succeeded:${volume.volId}:${params[1]}`);
  });

  register("stop", { confirm: STATUS.accept }, (server, params) => {
    const fn = "c2sStopServer";
    const volume = volumeOf(context, params, fn);
    const mode = params[1] ?? "graceful";
    if (mode.startsWith("e")) throw new RequestError(`${fn}:empty mode is not supported`);
    const isForce = mode.startsWith("f");
    volume.stop.begin(isForce ? "ForceStopping" : "Stopping", fn, volume.volId);
    return Promise.resolve(async () => {
      await stopVolume(context, volume, isForce);
      server.log("INFO", `stop succeeded:${volume.volId}:${isForce ? "force" : "graceful"}`);
    });
  });

  register("kick", { confirm: STATUS.ok }, async (server) => {
    await kickProxies(context);
    for (const queued of context.queue.list()) {
      if (queued.remainingMs > 0) context.queue.pushForce(queued.key, queued.task, 0);
    }
    server.log("INFO", "kick succeeded");
  });

  register("resize", { confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2sResizeServer";
    const volume = volumeOf(context, params, fn);
    const sizeText = params[1];
    if (sizeText === undefined) throw new RequestError(`${fn}:size not specified`);
    if (params[2] !== undefined) throw new RequestError(`${fn}:zeroclear is not supported`);
    const sizeLb = parseSizeWithUnit(sizeText, fn) / 512n;
    if (sizeLb === 0n) throw new RequestError(`${fn}:size must not be 0`);
    volume.stop.verifyNotStopping(fn, volume.volId);
    verifyState(volume.state, [SS.syncReady, SS.stopped, SS.target, SS.standby], fn);
    const device = await deviceStep(fn, volume.volId, () => context.deviceOf(volume));
    await deviceStep(fn, volume.volId, () => device.resize(sizeLb));
    server.log("INFO", `resize succeeded:${volume.volId}:${sizeLb}`);
  });

  register("set-full-scan-bps", { confirm: STATUS.ok }, (server, params) => {
    const fn = "c2sSetFullScanBpsServer";
    const text = params[0];
    if (text === undefined) throw new RequestError(`${fn}:size not specified`);
    const bytes = parseSizeWithUnit(text, fn);
    context.fullScanBytesPerSec = Number(bytes / 512n) * 512;
    server.log("INFO", `set-full-scan-bps succeeded:${context.fullScanBytesPerSec}`);
    return Promise.resolve();
  });

  register("dbg-dump-logpack-header", { confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2sDumpLogpackHeaderServer";
    const volume = volumeOf(context, params, fn);
    const lsidText = params[1];
    if (lsidText === undefined) throw new RequestError(`${fn}:lsid not specified`);
    const lsid = parseU64Param(lsidText, "lsid", fn);
    if (volume.state.state === SS.clear) {
      throw new RequestError(`${fn}:bad state:${volume.state.state}`);
    }
    const path = await deviceStep(fn, volume.volId, async () => {
      return await dumpLogpackHeader(context, volume, await context.deviceOf(volume), lsid);
    });
    server.log("INFO", `dbg-dump-logpack-header succeeded:${volume.volId}:${lsid}:${path}`);
  });

  runtime.register("snapshot", (server) => serveSnapshot(context, server));
  runtime.register("full-bkp", (server) => serveFullBackup(context, server));

  // Hash backup is not implemented yet: refuse clearly instead of failing the negotiation.
  register("hash-bkp", { confirm: STATUS.accept }, () => {
    throw new RequestError("c2sHashSyncServer:hash backup is not supported by this build");
  });
}
