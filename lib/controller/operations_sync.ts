/**
 * Archive info on proxies and synchronizing (controller-api.md §5.1–5.3).
 *
 * @module
 */
import { ControllerError } from "./errors.ts";
import type { Controller } from "./controller.ts";
import type { ServerParams } from "./layout.ts";
import { parseHostInfo } from "./exchanges.ts";
import { kickStorageAll, start, stop } from "./operations_basic.ts";
import { P_ACTIVE } from "./states.ts";
import { archiveInfoArgs, type SyncOpt } from "./values.ts";

/**
 * True when every proxy lists `ax` for `vol`, false when none does (also without proxies,
 * §15 Q7).
 *
 * @throws {ControllerError} when only some do
 */
export async function isSynchronizing(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
): Promise<boolean> {
  let listed = 0;
  for (const px of ctl.layout.proxyL) {
    if ((await ctl.getArchiveInfoList(px, vol)).includes(ax.name)) listed++;
  }
  if (listed === 0) return false;
  if (listed === ctl.layout.proxyL.length) return true;
  throw new ControllerError(`isSynchronizing:inconsistent archive info:${ax.name}:${vol}`);
}

/** Adds (or updates) `ax` on a proxy, restarting the proxy volume (§5.1). */
export async function addArchiveToProxy(
  ctl: Controller,
  px: ServerParams,
  vol: string,
  ax: ServerParams,
  init: { doStart?: boolean; syncOpt?: SyncOpt } = {},
): Promise<void> {
  if (P_ACTIVE.includes(await ctl.getState(px, vol))) await stop(ctl, px, vol, "force");
  const cmd = (await ctl.getArchiveInfoList(px, vol)).includes(ax.name) ? "update" : "add";
  const words = [ax.getHostPort(), ...(init.syncOpt ? archiveInfoArgs(init.syncOpt) : [])];
  await ctl.call(
    px,
    ["archive-info", cmd, vol, ax.name, ...words],
    () => ctl.proxyClient(px).archiveInfoSet(cmd, vol, ax.name, parseHostInfo(words)),
  );
  if ((init.doStart ?? true) && (await ctl.getState(px, vol)) === "Stopped") {
    await start(ctl, px, vol);
  }
}

/** Removes `ax` from a proxy (stopping it first), restarting it if still Stopped (§5.1). */
export async function delArchiveFromProxy(
  ctl: Controller,
  px: ServerParams,
  vol: string,
  ax: ServerParams,
  stopEmpty = false,
): Promise<void> {
  if (P_ACTIVE.includes(await ctl.getState(px, vol))) {
    await stop(ctl, px, vol, stopEmpty ? "empty" : "force");
  }
  if ((await ctl.getArchiveInfoList(px, vol)).includes(ax.name)) {
    await ctl.call(
      px,
      ["archive-info", "delete", vol, ax.name],
      () => ctl.proxyClient(px).archiveInfoDelete(vol, ax.name),
    );
  }
  if ((await ctl.getState(px, vol)) === "Stopped") await start(ctl, px, vol);
}

/** Registers `ax` on every proxy, then kicks the storages. */
export async function startSynchronizing(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  syncOpt?: SyncOpt,
): Promise<void> {
  for (const px of ctl.layout.proxyL) {
    await addArchiveToProxy(ctl, px, vol, ax, {
      doStart: true,
      ...(syncOpt === undefined ? {} : { syncOpt }),
    });
  }
  await kickStorageAll(ctl);
}

/** Removes `ax` from every proxy (force), then kicks the storages. */
export async function stopSynchronizing(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
): Promise<void> {
  for (const px of ctl.layout.proxyL) await delArchiveFromProxy(ctl, px, vol, ax);
  await kickStorageAll(ctl);
}
