/**
 * `walb proxy`: the proxy server (protocol-and-servers.md §2.3.1) with the original's
 * options.
 *
 * Exit status: 0 after shutdown, 1 on an option, startup or volume-load error.
 *
 * @module
 */
import { availableBytes, isFfiAllowed } from "../ffi/libc.ts";
import { realClock } from "../lib/clock.ts";
import { UsageError } from "../lib/errors.ts";
import { createProxyServer, DenoProxyFs } from "../lib/server/proxy/mod.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  checkKeepAliveOptions,
  declareKeepAliveOptions,
  declareListenOptions,
  declareTaskOptions,
  formatKeepAliveStatus,
  isDirectory,
  logStartup,
  openServerLog,
  openServerNet,
  runUntilShutdown,
  SERVER_VERSION_DESCRIPTION,
} from "./server_startup.ts";

function parser(): OptionParser {
  const p = new OptionParser("walb-proxy", { description: "walb-proxy version 1.0.19\n" });
  declareListenOptions(p);
  p.flag("debug", ": put debug message.");
  p.flag("stop", ": Start a daemon in stopped state for all volumes.");
  declareTaskOptions(p);
  p.option("bg", "u32", ": num of max concurrent background tasks.", { default: "1" });
  p.option("wd", "u32", ": max size of wdiff files to send [MiB].", { default: "128" });
  p.option("wn", "u32", ": max number of wdiff files to send.", { default: "1000" });
  p.option("delay", "u32", ": waiting time for next retry [sec].", { default: "1" });
  p.option("maxdelay", "u32", ": max waiting time for next retry [sec].", { default: "300" });
  p.option("rto", "u32", ": retry timeout (total period) [sec].", { default: "1800" });
  p.option("b", "string", ": base directory (full path)", { default: "/var/forest/walb/proxy" });
  p.option("id", "string", ": node identifier", { default: Deno.hostname() });
  p.option("to", "u32", ": Socket timeout [sec].", { default: "10" });
  declareKeepAliveOptions(p);
  return p;
}

/** Free bytes of the file system holding `path`, from `df -P -k` (Deno has no statvfs). */
function freeSpaceBytes(path: string): Promise<number> {
  // statvfs through FFI: a `df` process per accepted wlog transfer cost 10-44 ms under load.
  if (isFfiAllowed()) {
    try {
      return Promise.resolve(availableBytes(path));
    } catch {
      // Unknown: do not refuse transfers because the probe failed.
      return Promise.resolve(Number.MAX_SAFE_INTEGER);
    }
  }
  return freeSpaceBytesByDf(path);
}

/** `df`'s Available column, where FFI is not allowed. */
async function freeSpaceBytesByDf(path: string): Promise<number> {
  const output = await new Deno.Command("df", { args: ["-P", "-k", path], stderr: "null" })
    .output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  const fields = (lines[lines.length - 1] ?? "").trim().split(/\s+/);
  const availableKiB = Number(fields[3]);
  if (!output.success || !Number.isFinite(availableKiB)) {
    // Unknown: do not refuse transfers because the probe failed.
    return Number.MAX_SAFE_INTEGER;
  }
  return availableKiB * 1024;
}

/** The `walb proxy` command. */
export const command: Command = {
  name: "proxy",
  summary: "proxy server (walb-proxy)",
  run(args: string[], io: CommandIo): Promise<number> {
    return runTool("walb-proxy", io, async () => {
      const options = parser().parse(args);
      const baseDir = options.str("b");
      if (!(await isDirectory(baseDir))) {
        throw new UsageError(`base directory not found: ${baseDir}`);
      }
      for (const name of ["maxconn", "fg", "bg", "wd", "wn"]) {
        if (options.num(name) < 1) throw new UsageError(`${name} must be positive`);
      }
      if (options.num("delay") > options.num("maxdelay")) {
        throw new UsageError("delay must not exceed maxdelay");
      }
      checkKeepAliveOptions(options);
      const log = await openServerLog(options, baseDir);
      const logger = log.logger;
      const keepAlive = options.bool("ka");
      const { net, listen } = openServerNet(options);
      const versionDescription = SERVER_VERSION_DESCRIPTION;
      logStartup(logger, { role: "proxy", versionDescription, options });
      const timeoutMs = options.num("to") * 1000;
      const server = await createProxyServer({
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
        fs: new DenoProxyFs(),
        stopAtStartup: options.bool("stop"),
        config: {
          baseDir,
          maxWdiffSendSizeBytes: options.num("wd") * 1024 * 1024,
          maxWdiffSendCount: options.num("wn"),
          minRetryDelayMs: options.num("delay") * 1000,
          maxRetryDelayMs: options.num("maxdelay") * 1000,
          retryTimeoutMs: options.num("rto") * 1000,
          maxBackgroundTasks: options.num("bg"),
          connectTimeoutMs: timeoutMs,
          freeSpaceBytes,
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
