/**
 * The storage server (protocol-and-servers.md §2.2): builds the runtime, the store, the
 * context and the task queue, recovers volumes at startup (§2.2.8), registers every
 * handler, and runs the wlog task dispatcher, the proxy monitor and the device monitors
 * beside the accept loop.
 *
 * @module
 */
import { serveStatus } from "../../protocol/status.ts";
import type { ServerFs } from "../runtime/fs.ts";
import { serveTypedGet } from "../runtime/get.ts";
import { ServerRuntime, type ServerRuntimeOptions } from "../runtime/server.ts";
import { runDispatcher } from "../runtime/task_queue.ts";
import type { StorageDevices } from "./devices.ts";
import { storageGetTargets } from "./get.ts";
import { registerCommands } from "./handlers.ts";
import { stopAllMonitors } from "./monitor.ts";
import { runProxyMonitor } from "./proxy_monitor.ts";
import { recoverAtStartup } from "./recovery.ts";
import { globalStatus, type StorageStatusInfo, volumeStatus } from "./status.ts";
import { StorageStore } from "./store.ts";
import { type StorageConfig, StorageContext } from "./volume.ts";
import { runWlogTask } from "./worker.ts";

/** Everything a storage server is given. */
export interface StorageServerOptions extends Omit<ServerRuntimeOptions, "role"> {
  fs: ServerFs;
  devices: StorageDevices;
  config: StorageConfig;
  status?: Partial<StorageStatusInfo>;
}

/** A created storage server: its context and `run()`, which serves until shutdown. */
export interface StorageServer {
  context: StorageContext;
  /** Serves connections and runs the background tasks; resolves after shutdown. */
  run(): Promise<void>;
}

/**
 * Creates a storage server: recovers the base directory, registers the handlers, binds.
 *
 * @throws {StorageVolumeLoadError} when a volume cannot be loaded (the process must exit 1)
 */
export async function createStorageServer(options: StorageServerOptions): Promise<StorageServer> {
  const runtime = new ServerRuntime({ ...options, role: "storage" });
  const store = new StorageStore(options.fs, options.config.baseDir);
  const context = new StorageContext(runtime, store, options.devices, options.config);
  await recoverAtStartup(context);
  registerCommands(context);
  const info: StorageStatusInfo = { keepAlive: options.status?.keepAlive ?? "keepAlive OFF" };
  runtime.register("status", async (server) => {
    await serveStatus(
      server.packet,
      (params) =>
        params.length === 0 ? globalStatus(context, info) : volumeStatus(context, params[0]!),
    );
  });
  const targets = storageGetTargets(context);
  runtime.register("get", (server) => serveTypedGet(server, targets));
  runtime.start();
  const run = async () => {
    const stopBackground = new AbortController();
    const dispatcher = runDispatcher({
      queue: context.queue,
      clock: runtime.clock,
      workerCount: options.config.maxBackgroundTasks,
      run: (_key, task) => runWlogTask(context, task),
      onError: (key, error) =>
        runtime.log(
          "ERROR",
          `storageWorker:task failed:${key}:${error instanceof Error ? error.message : error}`,
        ),
      signal: stopBackground.signal,
    });
    const proxyMonitor = runProxyMonitor(context, stopBackground.signal);
    try {
      await runtime.run();
    } finally {
      await stopAllMonitors(context);
      stopBackground.abort();
      await dispatcher;
      await proxyMonitor;
      for (const volume of context.volumes.values()) {
        await volume.device?.close().catch(() => {});
        volume.device = undefined;
      }
    }
  };
  return { context, run };
}
