/**
 * Helpers of the storage integration tests: one backup group in process on the in-memory
 * network with real files — a userland WalB device (daemon with NBD and control sockets), an
 * archive (file backend), two proxies and a storage — plus client helpers (commands, typed
 * get, snapshot, restore and compare).
 */
import { realClock } from "../../lib/clock.ts";
import { openBlockDevice } from "../../lib/device/block/mod.ts";
import { WalbDaemon } from "../../lib/device/userland/mod.ts";
import { formatLdev } from "../../lib/device/walb/mod.ts";
import type { NetAddr } from "../../lib/net.ts";
import { expectStatus, sendStringVector } from "../../lib/protocol/reply.ts";
import type { ArchiveContext } from "../../lib/server/archive/mod.ts";
import { createProxyServer, DenoProxyFs, type ProxyServer } from "../../lib/server/proxy/mod.ts";
import { DenoServerFs, MemoryLogger } from "../../lib/server/runtime/mod.ts";
import {
  createStorageServer,
  REAL_STORAGE_DEVICES,
  type StorageConfig,
  type StorageServer,
} from "../../lib/server/storage/mod.ts";
import { assertEquals } from "../../lib/testing/assert.ts";
import { deviceSha1 } from "../../lib/testing/harness.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { createTestArchive } from "./archive_support.ts";
import { command, type Endpoint, get, request, sha1File, waitFor } from "./archive_client.ts";
import { archiveInfo } from "./proxy_client.ts";

export const VOL = "vol0";
export const MiB = 1024 * 1024;
export const A0: NetAddr = { hostname: "a0", port: 5000 };
export const P0: NetAddr = { hostname: "p0", port: 5000 };
export const P1: NetAddr = { hostname: "p1", port: 5000 };
export const S0: NetAddr = { hostname: "s0", port: 5000 };

const SILENT = { info() {}, warn() {}, error() {} };

/** Formats an ldev over a ddev (files) and starts a userland WalB device on them. */
export async function startDevice(root: string, ddevBytes: number): Promise<WalbDaemon> {
  const ldevPath = `${root}/ldev`;
  const ddevPath = `${root}/ddev`;
  await Deno.writeFile(ldevPath, new Uint8Array(0));
  await Deno.truncate(ldevPath, 16 * MiB);
  await Deno.writeFile(ddevPath, new Uint8Array(0));
  await Deno.truncate(ddevPath, ddevBytes);
  const ldev = await openBlockDevice(ldevPath);
  const ddev = await openBlockDevice(ddevPath);
  try {
    await formatLdev(ldev, ddev, { name: "wdev0" });
  } finally {
    await ldev.close();
    await ddev.close();
  }
  return await restartDevice(root);
}

/** Starts the device daemon on already formatted files. */
export async function restartDevice(root: string): Promise<WalbDaemon> {
  return await WalbDaemon.start({
    runDir: `${root}/run`,
    name: "wdev0",
    ldevPath: `${root}/ldev`,
    ddevPath: `${root}/ddev`,
    clock: realClock,
    logger: SILENT,
    directLdev: false,
  });
}

/** A running server and how to reach it. */
export interface Running<T> {
  server: T;
  logger: MemoryLogger;
  done: Promise<void>;
  endpoint: Endpoint;
  /** Forced shutdown (a kill in process); resolves when the server has stopped. */
  kill(): Promise<void>;
}

export async function startArchive(
  net: MemoryNet,
  baseDir: string,
): Promise<Running<ArchiveContext>> {
  await Deno.mkdir(`${baseDir}/_images`, { recursive: true });
  const logger = new MemoryLogger();
  const context = await createTestArchive(net, baseDir, { logger });
  const done = context.runtime.run();
  return {
    server: context,
    logger,
    done,
    endpoint: { net, addr: A0 },
    kill: async () => {
      context.runtime.requestShutdown(true);
      await done;
    },
  };
}

export async function startProxy(
  net: MemoryNet,
  baseDir: string,
  addr: NetAddr,
): Promise<Running<ProxyServer>> {
  await Deno.mkdir(baseDir, { recursive: true });
  const logger = new MemoryLogger();
  const server = await createProxyServer({
    serverId: "hostname" in addr ? addr.hostname : "p",
    clock: realClock,
    net,
    logger,
    listen: addr,
    timeoutMs: 10_000,
    versionDescription: "version:1.0.19",
    fs: new DenoProxyFs(),
    config: {
      baseDir,
      maxWdiffSendSizeBytes: 128 * MiB,
      maxWdiffSendCount: 1000,
      minRetryDelayMs: 20,
      maxRetryDelayMs: 200,
      retryTimeoutMs: 1_800_000,
      maxBackgroundTasks: 1,
      connectTimeoutMs: 1000,
    },
  });
  const done = server.run();
  return {
    server,
    logger,
    done,
    endpoint: { net, addr },
    kill: async () => {
      server.context.runtime.requestShutdown(true);
      await done;
    },
  };
}

/** Storage options of the tests: fast monitors and retries. */
export function storageConfig(baseDir: string, overrides: Partial<StorageConfig> = {}) {
  return {
    baseDir,
    archive: A0,
    proxies: [P0, P1],
    maxWlogSendBytes: 128 * MiB,
    implicitSnapshotIntervalSec: 1,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 400,
    maxBackgroundTasks: 1,
    connectTimeoutMs: 2000,
    fullScanBytesPerSec: 0,
    tsDeltaIntervalMs: 60_000,
    syncCompression: { type: 2, level: 0, numCpu: 1 },
    monitorWaitMs: 200,
    proxyCheckIntervalMs: 300,
    proxyMonitorTickMs: 50,
    ...overrides,
  } as StorageConfig;
}

export async function startStorage(
  net: MemoryNet,
  baseDir: string,
  overrides: Partial<StorageConfig> = {},
): Promise<Running<StorageServer>> {
  await Deno.mkdir(baseDir, { recursive: true });
  const logger = new MemoryLogger();
  const server = await createStorageServer({
    serverId: "s0",
    clock: realClock,
    net,
    logger,
    listen: S0,
    timeoutMs: 10_000,
    versionDescription: "version:1.0.19",
    fs: new DenoServerFs(),
    devices: REAL_STORAGE_DEVICES,
    config: storageConfig(baseDir, overrides),
  });
  const done = server.run();
  return {
    server,
    logger,
    done,
    endpoint: { net, addr: S0 },
    kill: async () => {
      server.context.runtime.requestShutdown(true);
      await done;
    },
  };
}

/** `snapshot` on the storage: returns the gid. */
export async function snapshot(storage: Endpoint, volId = VOL): Promise<bigint> {
  return await request(storage, "snapshot", async (packet) => {
    await sendStringVector(packet, [volId]);
    await expectStatus(packet, "ok", "snapshot");
    return await packet.readU64("gid");
  });
}

/** Polls `check` every 20 ms until it returns true (`timeoutMs` at most). */
export async function waitLong(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** True once `gid` is in the archive's restorable list. */
export async function isRestorable(archive: Endpoint, gid: bigint): Promise<boolean> {
  const lines = await get(archive, ["restorable", VOL], "lines");
  return lines.some((line) => line.split(" ")[0] === String(gid));
}

/** H-verify_restore: waits until restorable, restores, compares the sha1, deletes. */
export async function verifyRestore(archive: Endpoint, gid: bigint, sha1: string) {
  await waitLong(`gid ${gid} restorable`, () => isRestorable(archive, gid));
  await command(archive, "restore", [VOL, String(gid)], "accept");
  // As the controller's restore (controller-api.md §3.10): wait until no Restore action runs,
  // then the gid must be restored. (The image is renamed into place just before the action
  // ends, so polling only `get restored` races with del-restored's "running action" check.)
  // waitLong retries failed polls: `get restored` can race with the rename of the temporary
  // image (stat of a vanished `wr_..._tmp`).
  await waitLong(
    `restore ${gid}`,
    async () => (await get(archive, ["num-action", VOL, "Restore"], "size")) === 0n,
  );
  assertEquals(
    (await get(archive, ["restored", VOL], "lines")).includes(String(gid)),
    true,
    `gid ${gid} restored`,
  );
  const path = await get(archive, ["restored-path", VOL, String(gid)], "string");
  assertEquals(await sha1File(path), sha1, `restored image of gid ${gid}`);
  await command(archive, "del-restored", [VOL, String(gid)]);
}

/** Registers a0 on a proxy for VOL and starts the volume there. */
export async function attachProxy(proxy: Endpoint): Promise<void> {
  await archiveInfo(proxy, ["add", VOL, "a0", "a0:5000", "snappy:0:1", "0"]);
  await command(proxy, "start", [VOL]);
}

export { command, deviceSha1, get, request, waitFor };
