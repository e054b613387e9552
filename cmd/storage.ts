/**
 * `walb storage`: the storage server (protocol-and-servers.md §2.2.1) with the original's
 * options.
 *
 * Exit status: 0 after shutdown, 1 on an option, startup or volume-load error.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { parseCompressOpt } from "../lib/codec/mod.ts";
import { UsageError } from "../lib/errors.ts";
import { parseHostPort } from "../lib/net.ts";
import { DenoServerFs } from "../lib/server/runtime/mod.ts";
import { createStorageServer, REAL_STORAGE_DEVICES } from "../lib/server/storage/mod.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  checkKeepAliveOptions,
  declareKeepAliveOptions,
  declareListenOptions,
  declareTaskOptions,
  formatKeepAliveStatus,
  logStartup,
  openServerLog,
  openServerNet,
  runUntilShutdown,
  SERVER_VERSION_DESCRIPTION,
} from "./server_startup.ts";

function parser(): OptionParser {
  const p = new OptionParser("walb-storage", { description: "walb-storage version 1.0.19\n" });
  declareListenOptions(p);
  p.required("archive", "string", ": archive daemon (host:port)");
  p.required("proxy", "string", ": proxy daemons (host:port,host:port,...)");
  p.flag("debug", ": put debug message.");
  declareTaskOptions(p);
  p.option("bg", "u32", ": num of max concurrent background tasks.", { default: "1" });
  p.option("b", "string", ": base directory (full path)", {
    default: "/var/forest/walb/storage",
  });
  p.option("id", "string", ": node identifier", { default: Deno.hostname() });
  p.option("wl", "u32", ": max size of wlog to send at once [MiB].", { default: "128" });
  p.option("snapintvl", "u32", ": interval for implicit snapshot [sec].", { default: "10" });
  p.option("delay", "u32", ": waiting time for next retry [sec].", { default: "1" });
  p.option("maxdelay", "u32", ": max waiting time for next retry [sec].", { default: "300" });
  p.option("to", "u32", ": Socket timeout [sec].", { default: "10" });
  p.option("fst", "u64", ": full scan throughput limit [bytes/sec] (0: unlimited)", {
    default: "0",
  });
  p.option("tsdintvl", "u32", ": ts-delta gathering interval [sec].", { default: "60" });
  p.option("sync-cmpr", "string", ": compression for full/hash backup (TYPE:LEVEL:NCPU)", {
    default: "snappy:0:1",
  });
  declareKeepAliveOptions(p);
  return p;
}

async function ensureDirectory(path: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).isDirectory) return;
    throw new UsageError(`base directory is not a directory: ${path}`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(path, { recursive: true });
}

/** The `walb storage` command. */
export const command: Command = {
  name: "storage",
  summary: "storage server (walb-storage)",
  run(args: string[], io: CommandIo): Promise<number> {
    return runTool("walb-storage", io, async () => {
      const options = parser().parse(args);
      const baseDir = options.str("b");
      for (const name of ["maxconn", "fg", "bg", "wl", "snapintvl", "tsdintvl"]) {
        if (options.num(name) < 1) throw new UsageError(`${name} must be positive`);
      }
      checkKeepAliveOptions(options);
      const archive = parseHostPort(options.str("archive"));
      const proxies = options.str("proxy").split(",").filter((text) => text !== "")
        .map(parseHostPort);
      if (proxies.length === 0) throw new UsageError("-proxy: no proxy given");
      const syncCompression = parseCompressOpt(options.str("sync-cmpr"));
      await ensureDirectory(baseDir);
      const log = await openServerLog(options, baseDir);
      const logger = log.logger;
      let maxDelaySec = options.num("maxdelay");
      if (maxDelaySec < options.num("delay")) {
        logger.log("WARNING", "maxdelay is smaller than delay: raised to delay");
        maxDelaySec = options.num("delay");
      }
      const keepAlive = options.bool("ka");
      const { net, listen } = openServerNet(options);
      const versionDescription = SERVER_VERSION_DESCRIPTION;
      logStartup(logger, { role: "storage", versionDescription, options });
      const timeoutMs = options.num("to") * 1000;
      const server = await createStorageServer({
        serverId: options.str("id"),
        clock: realClock,
        net,
        logger,
        listen,
        maxConnections: options.num("maxconn"),
        maxForegroundTasks: options.num("fg"),
        timeoutMs: keepAlive ? 0 : timeoutMs,
        versionDescription,
        allowExec: options.bool("allow-exec"),
        fs: new DenoServerFs(),
        devices: REAL_STORAGE_DEVICES,
        config: {
          baseDir,
          archive,
          proxies,
          maxWlogSendBytes: options.num("wl") * 1024 * 1024,
          implicitSnapshotIntervalSec: options.num("snapintvl"),
          minRetryDelayMs: options.num("delay") * 1000,
          maxRetryDelayMs: maxDelaySec * 1000,
          maxBackgroundTasks: options.num("bg"),
          connectTimeoutMs: timeoutMs,
          fullScanBytesPerSec: options.num("fst"),
          tsDeltaIntervalMs: options.num("tsdintvl") * 1000,
          syncCompression,
        },
        status: {
          keepAlive: formatKeepAliveStatus(options),
        },
      });
      await runUntilShutdown({
        run: () => server.run(),
        requestShutdown: () => server.context.runtime.requestShutdown(true),
      }, log);
      return 0;
    });
  },
};
