/**
 * The device monitor (protocol-and-servers.md §2.2.4): for each monitored volume, a loop
 * that waits for the device's permanent lsid to move (WalbDevice.waitForPermanent with a
 * timeout, the equivalent of polling sysfs `lsids`) and then queues a wlog task in 100 ms.
 *
 * @module
 */
import { MONITOR_PUSH_DELAY_MS } from "./constants.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/** Default wait of one monitor round [ms]. */
const MONITOR_WAIT_MS = 1000;

/** Running monitor loops, so that shutdown can wait for them. */
const running = new WeakMap<StorageContext, Set<Promise<void>>>();

/** Starts monitoring a volume's device (no-op when already monitored). */
export function startMonitoring(context: StorageContext, volume: StorageVolume): void {
  if (volume.monitor !== undefined) return;
  const abort = new AbortController();
  volume.monitor = abort;
  let loops = running.get(context);
  if (loops === undefined) {
    loops = new Set();
    running.set(context, loops);
  }
  const loop: Promise<void> = monitorLoop(context, volume, abort.signal).finally(() =>
    loops.delete(loop)
  );
  loops.add(loop);
}

/** Stops monitoring a volume's device. */
export function stopMonitoring(volume: StorageVolume): void {
  volume.monitor?.abort();
  volume.monitor = undefined;
}

/** Stops every monitor of `context` and waits for the loops to end. */
export async function stopAllMonitors(context: StorageContext): Promise<void> {
  for (const volume of context.volumes.values()) stopMonitoring(volume);
  await Promise.all([...(running.get(context) ?? [])]);
}

async function monitorLoop(
  context: StorageContext,
  volume: StorageVolume,
  signal: AbortSignal,
): Promise<void> {
  const clock = context.runtime.clock;
  const waitMs = context.config.monitorWaitMs ?? MONITOR_WAIT_MS;
  let seen = -1n;
  while (!signal.aborted && context.runtime.status === "running") {
    try {
      const device = await context.deviceOf(volume);
      const lsids = await device.lsids();
      if (lsids.permanent !== seen) {
        seen = lsids.permanent;
        context.pushTask(volume.volId, MONITOR_PUSH_DELAY_MS);
      }
      if (signal.aborted) break;
      await device.waitForPermanent(seen, waitMs);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      context.runtime.log("WARNING", `deviceMonitor:${volume.volId}:${error.message}`);
      await clock.sleep(waitMs, signal).catch(() => {});
    }
  }
}
