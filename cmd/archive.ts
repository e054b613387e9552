/**
 * `walb archive`: the archive server (protocol-and-servers.md §2.4.1) with the original's
 * options, plus `-images DIR` (file backend with its images in DIR). With neither `-images`
 * nor `-vg` the file backend uses `<base>/_images`; `-vg` alone selects LVM (not available
 * yet: exit 1).
 *
 * Exit status: 0 after shutdown, 1 on an option, startup or volume-load error.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { FileBackend } from "../lib/archive-backend/mod.ts";
import { UsageError } from "../lib/errors.ts";
import { DenoNet, type Listener, type NetAddr } from "../lib/net.ts";
import { formatVersionDescription } from "../lib/protocol/builtin.ts";
import { createArchiveServer } from "../lib/server/archive/mod.ts";
import { DenoServerFs, LineLogger } from "../lib/server/runtime/mod.ts";
import type { DiscardPolicy } from "../lib/format/wdiff/apply.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { listenShutdownSignals, logStartup } from "./server_startup.ts";

function parser(): OptionParser {
  const p = new OptionParser("walb-archive", { description: "walb-archive version 1.0.19\n" });
  p.option("p", "u16", ": port to listen", { default: "5000" });
  p.option("l", "string", ": log file name.", { default: "-" });
  p.flag("debug", ": put debug message.");
  p.option("b", "string", ": base directory (full path)", { default: "/var/forest/walb/archive" });
  p.option("vg", "string", ": lvm volume group.", { default: "vg" });
  p.option("tp", "string", ": lvm thinpool (optional).", { default: "" });
  p.option("images", "string", ": image directory (file backend).", { default: "" });
  p.option("maxconn", "u32", ": num of max connections.", { default: "10" });
  p.option("fg", "u32", ": num of max concurrent foregroud tasks.", { default: "2" });
  p.option("id", "string", ": node identifier", { default: Deno.hostname() });
  p.option("to", "u32", ": Socket timeout [sec].", { default: "10" });
  p.option("wn", "u32", ": max number of wdiff files to send.", { default: "1000" });
  p.option("discard", "string", ": discard behavior: ignore/passdown/zero.", {
    default: "ignore",
  });
  p.option("fi", "u64", ": fsync interval size [bytes].", { default: "1073741824" });
  p.flag("autoresize", ": resize base image automatically if necessary");
  p.flag("keep-one-cold-snap", ": keep only one cold snapshot for each volume.");
  p.option("maxopen", "u32", ": max number of opened files for apply/restore (0: unlimited)", {
    default: "0",
  });
  p.option("maxopen-virt", "u32", ": max number of opened files for virtual full scan", {
    default: "0",
  });
  p.option("apply-sleep-pct", "u32", ": sleep percentage in apply/restore", { default: "0" });
  p.option("sync-cmpr", "string", ": compression option for sync.", { default: "snappy:0:1" });
  p.option("lock-time-th", "f64", ": lock time threshold [sec].", { default: "10.0" });
  p.flag("allow-exec", ": Allow exec command for test.");
  p.flag("ka", ": enable keep-alive.");
  p.option("kaidle", "u32", ": keep-alive idle [sec].", { default: "1800" });
  p.option("kaintvl", "u32", ": keep-alive interval [sec].", { default: "60" });
  p.option("kacnt", "u32", ": keep-alive count.", { default: "10" });
  return p;
}

const DISCARD_POLICIES: readonly string[] = ["ignore", "passdown", "zero"];

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

/** The `walb archive` command. */
export const command: Command = {
  name: "archive",
  summary: "archive server (walb-archive)",
  run(args: string[], io: CommandIo): Promise<number> {
    return runTool("walb-archive", io, async () => {
      const options = parser().parse(args);
      const baseDir = options.str("b");
      if (!(await isDirectory(baseDir))) {
        throw new UsageError(`base directory not found: ${baseDir}`);
      }
      const discard = options.str("discard");
      if (!DISCARD_POLICIES.includes(discard)) throw new UsageError(`bad discard type: ${discard}`);
      if (options.num("maxconn") < 1 || options.num("fg") < 1 || options.big("fi") < 1n) {
        throw new UsageError("maxconn, fg and fi must be positive");
      }
      if (
        options.num("kaidle") > 86400 || options.num("kaintvl") > 3600 || options.num("kacnt") > 100
      ) {
        throw new UsageError("keep-alive parameter out of range");
      }
      let imagesDir = options.str("images");
      if (imagesDir === "") {
        if (options.isSet("vg")) {
          throw new UsageError("the LVM backend is not available yet (use -images)");
        }
        imagesDir = `${baseDir}/_images`;
        if (!(await isDirectory(imagesDir))) await Deno.mkdir(imagesDir);
      }
      if (!(await isDirectory(imagesDir))) {
        throw new UsageError(`image directory not found: ${imagesDir}`);
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
      logStartup(logger, { role: "archive", versionDescription, options });
      const context = await createArchiveServer({
        serverId: options.str("id"),
        clock: realClock,
        net,
        logger,
        listen,
        maxConnections: options.num("maxconn"),
        maxForegroundTasks: options.num("fg"),
        timeoutMs: keepAlive ? 0 : options.num("to") * 1000,
        versionDescription,
        allowExec: options.bool("allow-exec"),
        fs: new DenoServerFs(),
        backend: new FileBackend(imagesDir),
        config: {
          baseDir,
          discardPolicy: discard as DiscardPolicy,
          fsyncIntervalBytes: Number(options.big("fi")),
          maxOpenDiffs: options.num("maxopen"),
          autoResize: options.bool("autoresize"),
          keepOneColdSnap: options.bool("keep-one-cold-snap"),
          maxWdiffSendNr: options.num("wn"),
          maxOpenVirt: options.num("maxopen-virt"),
        },
        status: {
          keepAlive: keepAlive
            ? `keepAlive ON (idle ${options.num("kaidle")} intvl ${options.num("kaintvl")} cnt ${
              options.num("kacnt")
            })`
            : "keepAlive OFF",
        },
      });
      const stopListening = listenShutdownSignals(() => context.runtime.requestShutdown(true));
      try {
        await context.runtime.run();
      } finally {
        stopListening();
        logFile?.close();
      }
      return 0;
    });
  },
};
