/**
 * Init, start, stop, reset, clear and kick (controller-api.md §3.1, §3.2, §7, §10) as
 * functions of a {@link Controller}, with the waits of §13.
 *
 * @module
 */
import { ControllerError } from "./errors.ts";
import type { Controller } from "./controller.ts";
import { verifyKind } from "./controller.ts";
import type { ServerParams } from "./layout.ts";
import {
  A_ACCEPT_FOR_CLEAR_VOL,
  A_ACTIVE,
  A_DURING_STOP,
  P_ACTIVE,
  P_DURING_STOP,
  S_DURING_STOP_FOR_STANDBY,
  S_DURING_STOP_FOR_TARGET,
  SHORT_TIMEOUT_MS,
  TIMEOUT_MS,
} from "./states.ts";

/** Stop modes. */
export type StopMode = "graceful" | "force" | "empty";

/**
 * `init-vol VOL [WDEV_PATH]` (path required for storages): Clear → SyncReady.
 *
 * @throws {ControllerError} for a storage without `wdevPath`
 */
export async function init(
  ctl: Controller,
  server: ServerParams,
  vol: string,
  wdevPath?: string,
): Promise<void> {
  verifyKind(server, ["storage", "archive"]);
  if (server.kind === "storage") {
    if (wdevPath === undefined) throw new ControllerError("init:storage needs a wdev path");
    await ctl.call(
      server,
      ["init-vol", vol, wdevPath],
      () => ctl.storageClient(server).initVol(vol, wdevPath),
    );
    return;
  }
  await ctl.call(server, ["init-vol", vol], () => ctl.archiveClient(server).initVol(vol));
}

/** Initialises an archive volume to SyncReady (the tutorial's `_init(ax, vol)`). */
export function initArchive(ctl: Controller, ax: ServerParams, vol: string): Promise<void> {
  verifyKind(ax, ["archive"]);
  return init(ctl, ax, vol);
}

/** `start VOL standby` from SyncReady, waiting for Standby. */
export async function goStandbyFromSyncReady(
  ctl: Controller,
  sx: ServerParams,
  vol: string,
): Promise<void> {
  await ctl.verifyState(sx, vol, "SyncReady");
  await ctl.call(sx, ["start", vol, "standby"], () => ctl.storageClient(sx).start(vol, "standby"));
  await ctl.waitForStateChange(sx, vol, ["StartStandby"], ["Standby"]);
}

/** `init-vol` then standby: the storage volume ends in Standby (§3.1). */
export async function initStorage(
  ctl: Controller,
  sx: ServerParams,
  vol: string,
  wdevPath: string,
): Promise<void> {
  verifyKind(sx, ["storage"]);
  await init(ctl, sx, vol, wdevPath);
  await goStandbyFromSyncReady(ctl, sx, vol);
}

/** `start` and its wait (§10): storage → Target, proxy → pActive, archive → aActive. */
export async function start(ctl: Controller, server: ServerParams, vol: string): Promise<void> {
  switch (server.kind) {
    case "storage":
      await ctl.call(
        server,
        ["start", vol, "target"],
        () => ctl.storageClient(server).start(vol, "target"),
      );
      await ctl.waitForStateChange(server, vol, ["StartTarget"], ["Target"]);
      return;
    case "proxy":
      await ctl.call(server, ["start", vol], () => ctl.proxyClient(server).start(vol));
      await ctl.waitForStateChange(server, vol, ["Start"], P_ACTIVE);
      return;
    default:
      await ctl.call(server, ["start", vol], () => ctl.archiveClient(server).start(vol));
      await ctl.waitForStateChange(server, vol, ["Start"], A_ACTIVE);
  }
}

/** Reads the state, sends `stop VOL MODE`, returns the state read before. */
export async function stopNbk(
  ctl: Controller,
  server: ServerParams,
  vol: string,
  mode: StopMode = "graceful",
): Promise<string> {
  const previous = await ctl.getState(server, vol);
  const args = ["stop", vol, mode];
  await ctl.call(server, args, () =>
    ctl.client(server).command("stop", [vol, mode], {
      confirm: "accept",
    }));
  return previous;
}

/** Waits for the end of a stop (§10); a storage needs the state read before it. */
export async function waitForStopped(
  ctl: Controller,
  server: ServerParams,
  vol: string,
  previousState?: string,
): Promise<void> {
  if (server.kind === "storage") {
    if (previousState === undefined) throw new ControllerError("waitForStopped:prevSt required");
    if (["Standby", "HashSync", "FullSync"].includes(previousState)) {
      await ctl.waitForStateChange(
        server,
        vol,
        S_DURING_STOP_FOR_STANDBY,
        ["SyncReady"],
        TIMEOUT_MS,
      );
    } else {
      await ctl.waitForStateChange(server, vol, S_DURING_STOP_FOR_TARGET, ["Stopped"], TIMEOUT_MS);
    }
    return;
  }
  const temporary = server.kind === "proxy" ? P_DURING_STOP : A_DURING_STOP;
  await ctl.waitForStateChange(server, vol, temporary, ["Stopped"], TIMEOUT_MS);
}

/** {@link stopNbk} then {@link waitForStopped}. */
export async function stop(
  ctl: Controller,
  server: ServerParams,
  vol: string,
  mode: StopMode = "graceful",
): Promise<void> {
  const previous = await stopNbk(ctl, server, vol, mode);
  await waitForStopped(ctl, server, vol, previous);
}

/** `reset-vol VOL` (synchronous, socket timeout `timeoutMs`); must end in SyncReady. */
export async function reset(
  ctl: Controller,
  server: ServerParams,
  vol: string,
  timeoutMs = SHORT_TIMEOUT_MS,
): Promise<void> {
  verifyKind(server, ["storage", "archive"]);
  await ctl.call(
    server,
    ["reset-vol", vol],
    () => ctl.client(server, timeoutMs).command("reset-vol", [vol]),
  );
  await ctl.verifyState(server, vol, "SyncReady");
}

/** Removes every trace of `vol` on one server; ends in Clear (§10). */
export async function clear(ctl: Controller, server: ServerParams, vol: string): Promise<void> {
  let state = await ctl.getState(server, vol);
  if (state === "Clear") return;
  if (server.kind === "storage") {
    if (state === "Target" || state === "Standby") await stop(ctl, server, vol, "force");
    if ((await ctl.getState(server, vol)) === "Stopped") await reset(ctl, server, vol);
    await ctl.verifyState(server, vol, "SyncReady");
  } else if (server.kind === "proxy") {
    if (P_ACTIVE.includes(state)) await stop(ctl, server, vol, "force");
    await ctl.verifyState(server, vol, "Stopped");
  } else {
    if (state === "Archived") await stop(ctl, server, vol, "force");
    state = await ctl.getState(server, vol);
    if (!A_ACCEPT_FOR_CLEAR_VOL.includes(state)) {
      throw new ControllerError(`${server.name}:${vol}:clear:bad state:${state}`);
    }
  }
  await ctl.call(server, ["clear-vol", vol], () => ctl.client(server).command("clear-vol", [vol]));
}

/** `kick` to every given storage or proxy. */
export async function kickAll(ctl: Controller, servers: readonly ServerParams[]): Promise<void> {
  for (const server of servers) {
    verifyKind(server, ["storage", "proxy"]);
    await ctl.call(server, ["kick"], () => ctl.client(server).command("kick", []));
  }
}

/** `kick` to every storage of the layout. */
export function kickStorageAll(ctl: Controller): Promise<void> {
  return kickAll(ctl, ctl.layout.storageL);
}

/** `kick VOL ARCHIVE` to every proxy of the layout. */
export async function kickProxy(ctl: Controller, vol: string, ax: ServerParams): Promise<void> {
  for (const px of ctl.layout.proxyL) {
    await ctl.call(px, ["kick", vol, ax.name], () => ctl.proxyClient(px).kick(vol, ax.name));
  }
}
