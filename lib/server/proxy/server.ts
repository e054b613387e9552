/**
 * The proxy server (protocol-and-servers.md §2.3): builds the runtime, the store and the
 * task queue, recovers volumes at startup (§2.3.6), registers every handler and runs the
 * wdiff sender dispatcher beside the accept loop.
 *
 * @module
 */
import { SERVER_PROTOCOLS } from "../../protocol/constants.ts";
import { serveStatus } from "../../protocol/status.ts";
import { serveTypedGet } from "../runtime/get.ts";
import { ServerRuntime, type ServerRuntimeOptions } from "../runtime/server.ts";
import { runDispatcher } from "../runtime/task_queue.ts";
import { proxyGetTargets } from "./get.ts";
import { registerCommands } from "./handlers.ts";
import { recoverAtStartup } from "./recovery.ts";
import { runSendTask } from "./sender.ts";
import { globalStatus, type ProxyStatusInfo, volumeStatus } from "./status.ts";
import { type ProxyFs, ProxyStore } from "./store.ts";
import { type ProxyConfig, ProxyContext } from "./volume.ts";
import { serveWlogTransfer } from "./wlog_receive.ts";

/** Everything a proxy server is given. */
export interface ProxyServerOptions extends Omit<ServerRuntimeOptions, "role"> {
  fs: ProxyFs;
  config: ProxyConfig;
  /** `-stop`: load volumes without starting them. */
  stopAtStartup?: boolean;
  status?: Partial<ProxyStatusInfo>;
}

/** A created proxy: its context and `run()`, which serves until shutdown. */
export interface ProxyServer {
  context: ProxyContext;
  /** Serves connections and runs the senders; resolves after shutdown. */
  run(): Promise<void>;
}

/**
 * Creates a proxy server: recovers the base directory, registers the handlers, binds.
 *
 * @throws {ProxyVolumeLoadError} when a volume cannot be loaded (the process must exit 1)
 */
export async function createProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const runtime = new ServerRuntime({ ...options, role: "proxy" });
  const store = new ProxyStore(options.fs, options.config.baseDir);
  const context = new ProxyContext(runtime, store, options.config);
  await recoverAtStartup(context, !(options.stopAtStartup ?? false));
  registerCommands(context);
  const info: ProxyStatusInfo = { keepAlive: options.status?.keepAlive ?? "keepAlive OFF" };
  runtime.register("status", async (server) => {
    await serveStatus(
      server.packet,
      (params) =>
        params.length === 0 ? globalStatus(context, info) : volumeStatus(context, params[0]!),
    );
  });
  const targets = proxyGetTargets(context);
  runtime.register("get", (server) => serveTypedGet(server, targets));
  runtime.register(SERVER_PROTOCOLS.wlogTransfer, (server) => serveWlogTransfer(context, server));
  runtime.start();
  const run = async () => {
    const stopDispatcher = new AbortController();
    const dispatcher = runDispatcher({
      queue: context.queue,
      clock: runtime.clock,
      workerCount: options.config.maxBackgroundTasks,
      run: (_key, task) => runSendTask(context, task),
      onError: (key, error) =>
        runtime.log(
          "ERROR",
          `wdiffSender:task failed:${key}:${error instanceof Error ? error.message : error}`,
        ),
      signal: stopDispatcher.signal,
    });
    try {
      await runtime.run();
    } finally {
      stopDispatcher.abort();
      await dispatcher;
      context.closeWorkers();
    }
  };
  return { context, run };
}
