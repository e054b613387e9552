/**
 * The archive server (protocol-and-servers.md §2.4): builds the runtime, the store and the
 * backend context, recovers volumes at startup (§2.4.8) and registers every handler.
 *
 * @module
 */
import type { ArchiveBackend } from "../../archive-backend/mod.ts";
import { SERVER_PROTOCOLS } from "../../protocol/constants.ts";
import { serveStatus } from "../../protocol/status.ts";
import type { ServerFs } from "../runtime/fs.ts";
import { serveTypedGet } from "../runtime/get.ts";
import { ServerRuntime, type ServerRuntimeOptions } from "../runtime/server.ts";
import { archiveGetTargets } from "./get.ts";
import { registerCommands } from "./handlers.ts";
import { recoverAtStartup } from "./recovery.ts";
import { type ArchiveStatusInfo, globalStatus, volumeStatus } from "./status.ts";
import { ArchiveStore } from "./store.ts";
import { type ArchiveConfig, ArchiveContext } from "./volume.ts";
import { serveWdiffTransfer } from "./wdiff_receive.ts";
import { serveDirtyFullSync } from "./full_sync.ts";

/** Everything an archive server is given. */
export interface ArchiveServerOptions extends Omit<ServerRuntimeOptions, "role"> {
  fs: ServerFs;
  backend: ArchiveBackend;
  config: ArchiveConfig;
  status?: Partial<ArchiveStatusInfo>;
}

/**
 * Creates an archive server: recovers the base directory, registers the handlers, binds.
 * Call `runtime.run()` to serve.
 *
 * @throws {VolumeLoadError} when a volume cannot be loaded (the process must exit 1)
 */
export async function createArchiveServer(options: ArchiveServerOptions): Promise<ArchiveContext> {
  const runtime = new ServerRuntime({ ...options, role: "archive" });
  const store = new ArchiveStore(options.fs, options.config.baseDir);
  const context = new ArchiveContext(runtime, store, options.backend, options.config);
  await recoverAtStartup(context);
  registerCommands(context);
  const info: ArchiveStatusInfo = {
    keepAlive: options.status?.keepAlive ?? "keepAlive OFF",
    doAutoResize: options.config.autoResize,
    keepOneColdSnapshot: options.config.keepOneColdSnap,
  };
  runtime.register("status", async (server) => {
    await serveStatus(
      server.packet,
      (params) =>
        params.length === 0 ? globalStatus(context, info) : volumeStatus(context, params[0]!),
    );
  });
  const targets = archiveGetTargets(context);
  runtime.register("get", (server) => serveTypedGet(server, targets));
  runtime.register(SERVER_PROTOCOLS.wdiffTransfer, (server) => serveWdiffTransfer(context, server));
  runtime.register(SERVER_PROTOCOLS.dirtyFullSync, (server) => serveDirtyFullSync(context, server));
  runtime.start();
  return context;
}
