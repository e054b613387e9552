/**
 * Proxy heartbeat and selection (protocol-and-servers.md §1.10.7, §2.2.4, §2.2.6): every
 * tick the proxy whose last check is the oldest (and at least the check interval old) is
 * asked `get host-type`; it is available iff the answer is `proxy`. Transfers try the
 * available proxies in configured order; `kick` marks every proxy due.
 *
 * @module
 */
import { formatNetAddr, type NetAddr } from "../../net.ts";
import { HOST_TYPE } from "../../protocol/constants.ts";
import { runClient } from "../../protocol/connection.ts";
import type { Packet } from "../../protocol/packet.ts";
import { receiveValueReply, sendStringVector } from "../../protocol/reply.ts";
import {
  PROXY_CHECK_INTERVAL_MS,
  PROXY_HEARTBEAT_TIMEOUT_MS,
  PROXY_MONITOR_TICK_MS,
} from "./constants.ts";
import type { ProxyEntry, StorageContext } from "./volume.ts";

/** Runs one request to `addr` as this server (negotiation with our id, then `exchange`). */
export async function requestPeer<T>(
  context: StorageContext,
  addr: NetAddr,
  protocolName: string,
  exchange: (packet: Packet, serverId: string) => Promise<T>,
  timeoutMs = context.config.connectTimeoutMs,
): Promise<T> {
  const conn = await context.runtime.net.connect(addr, { timeoutMs });
  return await runClient(conn, {
    clock: context.runtime.clock,
    clientId: context.runtime.serverId,
    protocolName,
    timeoutMs,
  }, exchange);
}

/** Checks one proxy (`get host-type`); updates its availability. */
export async function checkProxy(context: StorageContext, entry: ProxyEntry): Promise<void> {
  entry.lastCheckMs = context.runtime.clock.nowMs();
  let available: boolean;
  try {
    const hostType = await requestPeer(context, entry.addr, "get", async (packet) => {
      await sendStringVector(packet, ["host-type"]);
      return await receiveValueReply(packet, "string", "proxyHeartbeat");
    }, PROXY_HEARTBEAT_TIMEOUT_MS);
    available = hostType === HOST_TYPE.proxy;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    available = false;
    context.runtime.log(
      "DEBUG",
      `proxyMonitor:check failed:${formatNetAddr(entry.addr)}:${error.message}`,
    );
  }
  if (available !== entry.isAvailable) {
    context.runtime.log(
      available ? "INFO" : "WARNING",
      `proxyMonitor:${formatNetAddr(entry.addr)}:${available ? "available" : "unavailable"}`,
    );
  }
  entry.isAvailable = available;
}

/** The proxy due for a check (oldest check, at least the interval old), if any. */
export function dueProxy(context: StorageContext): ProxyEntry | undefined {
  const now = context.runtime.clock.nowMs();
  const interval = context.config.proxyCheckIntervalMs ?? PROXY_CHECK_INTERVAL_MS;
  let due: ProxyEntry | undefined;
  for (const entry of context.proxies) {
    if (now - entry.lastCheckMs < interval) continue;
    if (due === undefined || entry.lastCheckMs < due.lastCheckMs) due = entry;
  }
  return due;
}

/** The proxy monitor thread: resolves when `signal` aborts. */
export async function runProxyMonitor(context: StorageContext, signal: AbortSignal) {
  const tick = context.config.proxyMonitorTickMs ?? PROXY_MONITOR_TICK_MS;
  while (!signal.aborted) {
    const entry = dueProxy(context);
    if (entry !== undefined) await checkProxy(context, entry);
    await context.runtime.clock.sleep(tick, signal).catch(() => {});
  }
}

/** `kick`: every proxy due now; if none is available, one is checked at once. */
export async function kickProxies(context: StorageContext): Promise<void> {
  for (const entry of context.proxies) entry.lastCheckMs = Number.NEGATIVE_INFINITY;
  if (context.proxies.some((entry) => entry.isAvailable)) return;
  const entry = context.proxies[0];
  if (entry !== undefined) await checkProxy(context, entry);
}

/** Available proxies in priority order. */
export function availableProxies(context: StorageContext): ProxyEntry[] {
  return context.proxies.filter((entry) => entry.isAvailable);
}
