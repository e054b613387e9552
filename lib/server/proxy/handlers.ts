/**
 * Proxy controller commands (protocol-and-servers.md §1.9.6, §2.5.2): `start`, `stop`,
 * `clear-vol`, `resize`, `kick` and the `archive-info` exchange, with their parameter and
 * state checks and error texts in place of the status string.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { serialize } from "../../format/serializer/mod.ts";
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import type { Packet } from "../../protocol/packet.ts";
import { finClose, receiveStringVector, sendErrorReply } from "../../protocol/reply.ts";
import { checkVolumeId, parseSizeWithUnit } from "../runtime/format.ts";
import { runCommand, volumeOf } from "../runtime/command.ts";
import type { ServerContext } from "../runtime/server.ts";
import { verifyState } from "../runtime/state_machine.ts";
import type { StopState } from "../runtime/volume_flags.ts";
import { PS, SENDING_STATES, STOP_POLL_MS, STOP_WAIT_MS } from "./constants.ts";
import { ADDR_SIZE_MAX, type HostInfoForBkp, readHostInfo, writeHostInfo } from "./host_info.ts";
import { collectReceived, queueAllArchives } from "./recovery.ts";
import { isValidArchiveName } from "./store.ts";
import { type ProxyContext, type ProxyVolume, sendTaskKey } from "./volume.ts";

function verifyNoSend(volume: ProxyVolume, fn: string): void {
  if (volume.sendCount() > 0) {
    throw new RequestError(`${fn}:there are running wdiff sends:${volume.volId}`);
  }
}

/** Polls `done` until true; fails after {@link STOP_WAIT_MS}. */
async function waitUntil(
  context: ProxyContext,
  what: string,
  done: () => boolean,
): Promise<void> {
  const clock = context.runtime.clock;
  const deadline = clock.nowMs() + STOP_WAIT_MS;
  while (!done()) {
    if (clock.nowMs() >= deadline) throw new RequestError(`c2pStopServer:timeout:${what}`);
    await clock.sleep(STOP_POLL_MS);
  }
}

/** Starts a Stopped volume: GC, `Stopped → Start → Started`, one task per archive. */
export async function startVolume(
  context: ProxyContext,
  volume: ProxyVolume,
  fn: string,
): Promise<void> {
  volume.stop.verifyNotStopping(fn, volume.volId);
  verifyNoSend(volume, fn);
  const tx = volume.state.begin(PS.stopped, PS.start, fn);
  try {
    await collectReceived(context, volume);
    volume.sendError.clear();
    tx.commit(PS.started);
  } finally {
    tx.rollback();
  }
  queueAllArchives(context, volume);
}

async function stopVolume(
  context: ProxyContext,
  volume: ProxyVolume,
  mode: "graceful" | "force" | "empty",
): Promise<void> {
  const fn = "c2pStopServer";
  const flag: StopState = mode === "empty"
    ? "WAitingForEmpty"
    : mode === "force"
    ? "ForceStopping"
    : "Stopping";
  volume.stop.begin(flag as Exclude<StopState, "NotStopping">, fn, volume.volId);
  try {
    if (mode === "force") volume.forceStop.abort(new Error("force stop"));
    if (mode !== "empty") {
      await waitUntil(
        context,
        volume.volId,
        () => !volume.state.inTransaction && volume.sendCount() === 0,
      );
      verifyState(volume.state, [PS.started], fn);
      const tx = volume.state.begin(PS.started, PS.stop, fn);
      context.dropTasks(volume.volId);
      tx.commit(PS.stopped);
      return;
    }
    await waitUntil(context, volume.volId, () => !volume.state.inTransaction);
    verifyState(volume.state, [PS.started], fn);
    const tx = volume.state.begin(PS.started, PS.waitForEmpty, fn);
    try {
      const isEmpty = () =>
        volume.sendCount() === 0 && [...volume.pending.values()].every((d) => d.size === 0);
      const clock = context.runtime.clock;
      const deadline = clock.nowMs() + STOP_WAIT_MS;
      while (!isEmpty()) {
        if (clock.nowMs() >= deadline) {
          throw new RequestError(`${fn}:timeout waiting for empty:${volume.volId}`);
        }
        queueAllArchives(context, volume);
        await clock.sleep(STOP_POLL_MS);
      }
      context.dropTasks(volume.volId);
      tx.commit(PS.stopped);
    } finally {
      tx.rollback();
    }
  } finally {
    volume.stop.end();
    if (volume.forceStop.signal.aborted) volume.forceStop = new AbortController();
  }
}

/** Registers every proxy command handler on the runtime. */
export function registerCommands(context: ProxyContext): void {
  const runtime = context.runtime;
  const register = (
    name: string,
    options: { count?: number; confirm: string },
    body: (server: ServerContext, params: string[]) => Promise<(() => Promise<void>) | void>,
  ) =>
    runtime.register(name, (server) => runCommand(server, name, options, (p) => body(server, p)));

  register("start", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2pStartServer";
    const volume = volumeOf(context, params, fn);
    await startVolume(context, volume, fn);
    server.log("INFO", `start succeeded:${volume.volId}`);
  });

  register("stop", { confirm: STATUS.accept }, (server, params) => {
    const fn = "c2pStopServer";
    const volume = volumeOf(context, params, fn);
    // Only the first character counts (protocol-and-servers.md §3.2): f… force, e… empty.
    const first = (params[1] ?? "")[0];
    const modeText = first === "f" ? "force" : first === "e" ? "empty" : "graceful";
    return Promise.resolve(async () => {
      await stopVolume(context, volume, modeText);
      server.log("INFO", `stop succeeded:${volume.volId}:${modeText}`);
    });
  });

  register("clear-vol", { count: 1, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2pClearVolServer";
    const volume = volumeOf(context, params, fn);
    volume.stop.verifyNotStopping(fn, volume.volId);
    verifyNoSend(volume, fn);
    const tx = volume.state.begin(PS.stopped, PS.clearVol, fn);
    try {
      if (await context.store.exists(volume.volId)) {
        await context.store.removeVolume(volume.volId);
      }
      volume.reset();
      context.dropTasks(volume.volId);
      tx.commit(PS.clear);
    } finally {
      tx.rollback();
    }
    server.log("INFO", `clearVol succeeded:${volume.volId}`);
  });

  register("resize", { count: 2, confirm: STATUS.ok }, async (server, params) => {
    const fn = "c2pResizeServer";
    const volume = volumeOf(context, params, fn);
    const sizeLb = parseSizeWithUnit(params[1]!, fn) / 512n;
    if (sizeLb === 0n) throw new RequestError(`${fn}:size must not be 0`);
    volume.stop.verifyNotStopping(fn, volume.volId);
    verifyState(volume.state, [PS.stopped], fn);
    await context.store.writeSize(volume.volId, sizeLb);
    volume.sizeLb = sizeLb;
    server.log("INFO", `resize succeeded:${volume.volId}:${sizeLb}`);
  });

  register("kick", { confirm: STATUS.ok }, (server, params) => {
    const fn = "c2pKickServer";
    const kickVolume = (volume: ProxyVolume) => {
      volume.sendError.clear();
      for (const name of volume.archiveNames()) context.queueSend(volume.volId, name, 0, true);
    };
    if (params.length === 0) {
      for (const volume of context.volumes.values()) {
        if (SENDING_STATES.includes(volume.state.state)) kickVolume(volume);
      }
    } else {
      const volume = volumeOf(context, params, fn);
      const archiveName = params[1];
      if (archiveName === undefined) {
        verifyState(volume.state, SENDING_STATES, fn);
        kickVolume(volume);
      } else {
        if (!volume.archives.has(archiveName)) {
          throw new RequestError(`${fn}:archive not found:${volume.volId}:${archiveName}`);
        }
        volume.sendError.delete(archiveName);
        context.queueSend(volume.volId, archiveName, 0, true);
      }
    }
    server.log("INFO", `kick succeeded:${params.join(":")}`);
    return Promise.resolve();
  });

  runtime.register("archive-info", (server) => serveArchiveInfo(context, server));
}

const ARCHIVE_INFO_COMMANDS = ["list", "add", "update", "get", "delete"] as const;
type ArchiveInfoCommand = (typeof ARCHIVE_INFO_COMMANDS)[number];

/** The `archive-info` exchange (§1.9.6). */
async function serveArchiveInfo(context: ProxyContext, server: ServerContext): Promise<void> {
  const fn = "c2pArchiveInfoServer";
  const packet = server.packet;
  let reply: ((packet: Packet) => void) | undefined;
  try {
    const params = await receiveStringVector(packet, { count: 2 });
    const command = params[0]! as ArchiveInfoCommand;
    if (!ARCHIVE_INFO_COMMANDS.includes(command)) {
      throw new RequestError(`${fn}:bad command:${command}`);
    }
    const volume = context.volume(checkVolumeId(params[1]!, fn));
    let archiveName = "";
    let info: HostInfoForBkp | undefined;
    if (command !== "list") {
      archiveName = await packet.readString("archive name", ADDR_SIZE_MAX);
      if (!isValidArchiveName(archiveName)) {
        throw new RequestError(`${fn}:bad archive name:${archiveName}`);
      }
    }
    if (command === "add" || command === "update") {
      info = await packet.read("HostInfoForBkp", readHostInfo, ADDR_SIZE_MAX + 32);
    }
    reply = await runArchiveInfo(context, volume, command, archiveName, info);
    server.log("INFO", `archive-info ${command} succeeded:${volume.volId}:${archiveName}`);
  } catch (error) {
    if (
      !(error instanceof RequestError) && !(error instanceof CorruptDataError) &&
      !(error instanceof LimitExceededError)
    ) throw error;
    server.log("WARNING", error.message);
    await sendErrorReply(packet, error.message);
    return;
  }
  packet.writeString(STATUS.ok);
  reply?.(packet);
  await finClose(packet);
}

/** Performs an archive-info command; returns the writer of its value (list, get). */
async function runArchiveInfo(
  context: ProxyContext,
  volume: ProxyVolume,
  command: ArchiveInfoCommand,
  archiveName: string,
  info: HostInfoForBkp | undefined,
): Promise<((packet: Packet) => void) | undefined> {
  const fn = "c2pArchiveInfoServer";
  switch (command) {
    case "list": {
      const names = volume.archiveNames();
      return (packet) => packet.writeStringVector(names);
    }
    case "get": {
      const found = volume.archives.get(archiveName);
      if (found === undefined) {
        throw new RequestError(`${fn}:archive not found:${volume.volId}:${archiveName}`);
      }
      const bytes = serialize((w) => writeHostInfo(w, found));
      return (packet) => packet.writeBytes(bytes);
    }
    case "add":
    case "update":
      await addArchive(context, volume, archiveName, info!, command === "add");
      return undefined;
    case "delete":
      await deleteArchive(context, volume, archiveName);
      return undefined;
  }
}

async function addArchive(
  context: ProxyContext,
  volume: ProxyVolume,
  archiveName: string,
  info: HostInfoForBkp,
  isAdd: boolean,
): Promise<void> {
  const fn = "c2pArchiveInfoServer";
  const store = context.store;
  const volId = volume.volId;
  verifyNoSend(volume, fn);
  const tx = volume.state.beginFromAny([PS.clear, PS.stopped], PS.addArchiveInfo, fn);
  let created = false;
  try {
    if (tx.from === PS.clear) {
      if (await store.exists(volId)) {
        throw new RequestError(`${fn}:volume directory exists:${volId}`);
      }
      await store.createVolume(volId);
      created = true;
      volume.reset();
    }
    const dir = store.sendtoDir(volId, archiveName);
    if (isAdd && await store.fs.exists(dir)) {
      throw new RequestError(`${fn}:archive already exists:${volId}:${archiveName}`);
    }
    await store.writeArchiveInfo(volId, archiveName, info);
    await store.ensureSendtoDir(volId, archiveName);
    volume.archives.set(archiveName, info);
    volume.pendingOf(archiveName);
    tx.commit(PS.stopped);
  } catch (error) {
    if (created) {
      await store.removeVolume(volId).catch(() => {});
      volume.reset();
    }
    throw error;
  } finally {
    tx.rollback();
  }
}

async function deleteArchive(
  context: ProxyContext,
  volume: ProxyVolume,
  archiveName: string,
): Promise<void> {
  const fn = "c2pArchiveInfoServer";
  const volId = volume.volId;
  verifyNoSend(volume, fn);
  const tx = volume.state.begin(PS.stopped, PS.deleteArchiveInfo, fn);
  try {
    if (!volume.archives.has(archiveName)) {
      throw new RequestError(`${fn}:archive not found:${volId}:${archiveName}`);
    }
    await context.store.removeArchive(volId, archiveName);
    volume.archives.delete(archiveName);
    volume.pending.delete(archiveName);
    volume.sendError.delete(archiveName);
    volume.lastWdiffSentSec.delete(archiveName);
    context.queue.remove(sendTaskKey(volId, archiveName));
    if (volume.archives.size > 0) {
      tx.commit(PS.stopped);
      return;
    }
    await context.store.removeVolume(volId);
    volume.reset();
    context.dropTasks(volId);
    tx.commit(PS.clear);
  } finally {
    tx.rollback();
  }
}
