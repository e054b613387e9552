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
import { DenoNet, type Listener, type NetAddr, parseHostPort } from "../lib/net.ts";
import { formatVersionDescription } from "../lib/protocol/builtin.ts";
import { DenoServerFs, LineLogger } from "../lib/server/runtime/mod.ts";
import { createStorageServer, REAL_STORAGE_DEVICES } from "../lib/server/storage/mod.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { listenShutdownSignals, logStartup } from "./server_startup.ts";

function parser(): OptionParser {
  const p = new OptionParser("walb-storage", { description: "walb-storage version 1.0.19\n" });
  p.option("p", "u16", ": port to listen", { default: "5000" });
  p.option("l", "string", ": log file name.", { default: "-" });
  p.required("archive", "string", ": archive daemon (host:port)");
  p.required("proxy", "string", ": proxy daemons (host:port,host:port,...)");
  p.flag("debug", ": put debug message.");
  p.option("maxconn", "u32", ": num of max connections.", { default: "10" });
  p.option("fg", "u32", ": num of max concurrent foregroud tasks.", { default: "2" });
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
  p.flag("allow-exec", ": Allow exec command for test.");
  p.flag("ka", ": enable keep-alive.");
  p.option("kaidle", "u32", ": keep-alive idle [sec].", { default: "1800" });
  p.option("kaintvl", "u32", ": keep-alive interval [sec].", { default: "60" });
  p.option("kacnt", "u32", ": keep-alive count.", { default: "10" });
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

/** Listens on every address: `::` (dual-stack), or `0.0.0.0` without IPv6. */
function listenAll(net: DenoNet, port: number): { listen: NetAddr; probe: Listener } {
  for (const hostname of ["::", "0.0.0.0"]) {
    try {
      const probe = net.listen({ hostname, port });
      return { listen: { hostname, port }, probe };
    } catch (error) {
      if (hostname === "0.0.0.0") throw error;
    }
  }
  throw new Error("unreachable");
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
      if (
        options.num("kaidle") > 86400 || options.num("kaintvl") > 3600 || options.num("kacnt") > 100
      ) {
        throw new UsageError("keep-alive parameter out of range");
      }
      const archive = parseHostPort(options.str("archive"));
      const proxies = options.str("proxy").split(",").filter((text) => text !== "")
        .map(parseHostPort);
      if (proxies.length === 0) throw new UsageError("-proxy: no proxy given");
      const syncCompression = parseCompressOpt(options.str("sync-cmpr"));
      await ensureDirectory(baseDir);
      const logPath = options.str("l");
      const encoder = new TextEncoder();
      let logFile: Deno.FsFile | undefined;
      if (logPath !== "-") {
        const path = logPath.startsWith("/") ? logPath : `${baseDir}/${logPath}`;
        logFile = await Deno.open(path, { append: true, create: true });
      }
      const sink = logFile ?? Deno.stderr;
      const logger = new LineLogger(
        realClock,
        (line) => sink.writeSync(encoder.encode(line + "\n")),
        options.bool("debug"),
      );
      let maxDelaySec = options.num("maxdelay");
      if (maxDelaySec < options.num("delay")) {
        logger.log("WARNING", "maxdelay is smaller than delay: raised to delay");
        maxDelaySec = options.num("delay");
      }
      const keepAlive = options.bool("ka");
      const net = new DenoNet({ clock: realClock, keepAlive });
      const { listen, probe } = listenAll(net, options.num("p"));
      probe.close();
      const versionDescription = formatVersionDescription({
        version: "1.0.19",
        buildDate: "2018-10-31T00:00:00",
      });
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
          keepAlive: keepAlive
            ? `keepAlive ON (idle ${options.num("kaidle")} intvl ${options.num("kaintvl")} cnt ${
              options.num("kacnt")
            })`
            : "keepAlive OFF",
        },
      });
      const stopListening = listenShutdownSignals(() =>
        server.context.runtime.requestShutdown(true)
      );
      try {
        await server.run();
      } finally {
        stopListening();
        logFile?.close();
      }
      return 0;
    });
  },
};
