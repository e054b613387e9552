/**
 * `walb proxy`: the proxy server (protocol-and-servers.md §2.3.1) with the original's
 * options.
 *
 * Exit status: 0 after shutdown, 1 on an option, startup or volume-load error.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { UsageError } from "../lib/errors.ts";
import { DenoNet, type Listener, type NetAddr } from "../lib/net.ts";
import { formatVersionDescription } from "../lib/protocol/builtin.ts";
import { createProxyServer, DenoProxyFs } from "../lib/server/proxy/mod.ts";
import { LineLogger } from "../lib/server/runtime/mod.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { listenShutdownSignals, logStartup } from "./server_startup.ts";

function parser(): OptionParser {
  const p = new OptionParser("walb-proxy", { description: "walb-proxy version 1.0.19\n" });
  p.option("p", "u16", ": port to listen", { default: "5000" });
  p.option("l", "string", ": log file name.", { default: "-" });
  p.flag("debug", ": put debug message.");
  p.flag("stop", ": Start a daemon in stopped state for all volumes.");
  p.option("maxconn", "u32", ": num of max connections.", { default: "10" });
  p.option("fg", "u32", ": num of max concurrent foregroud tasks.", { default: "2" });
  p.option("bg", "u32", ": num of max concurrent background tasks.", { default: "1" });
  p.option("wd", "u32", ": max size of wdiff files to send [MiB].", { default: "128" });
  p.option("wn", "u32", ": max number of wdiff files to send.", { default: "1000" });
  p.option("delay", "u32", ": waiting time for next retry [sec].", { default: "1" });
  p.option("maxdelay", "u32", ": max waiting time for next retry [sec].", { default: "300" });
  p.option("rto", "u32", ": retry timeout (total period) [sec].", { default: "1800" });
  p.option("b", "string", ": base directory (full path)", { default: "/var/forest/walb/proxy" });
  p.option("id", "string", ": node identifier", { default: Deno.hostname() });
  p.option("to", "u32", ": Socket timeout [sec].", { default: "10" });
  p.flag("allow-exec", ": Allow exec command for test.");
  p.flag("ka", ": enable keep-alive.");
  p.option("kaidle", "u32", ": keep-alive idle [sec].", { default: "1800" });
  p.option("kaintvl", "u32", ": keep-alive interval [sec].", { default: "60" });
  p.option("kacnt", "u32", ": keep-alive count.", { default: "10" });
  return p;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
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

/** Free bytes of the file system holding `path`, from `df -P -k` (Deno has no statvfs). */
async function freeSpaceBytes(path: string): Promise<number> {
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
      if (
        options.num("kaidle") > 86400 || options.num("kaintvl") > 3600 || options.num("kacnt") > 100
      ) {
        throw new UsageError("keep-alive parameter out of range");
      }
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
      const keepAlive = options.bool("ka");
      const net = new DenoNet({ clock: realClock, keepAlive });
      const { listen, probe } = listenAll(net, options.num("p"));
      probe.close();
      const versionDescription = formatVersionDescription({
        version: "1.0.19",
        buildDate: "2018-10-31T00:00:00",
      });
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
