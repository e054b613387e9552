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
import { createArchiveServer } from "../lib/server/archive/mod.ts";
import { DenoServerFs } from "../lib/server/runtime/mod.ts";
import type { DiscardPolicy } from "../lib/format/wdiff/apply.ts";
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
  const p = new OptionParser("walb-archive", { description: "walb-archive version 1.0.19\n" });
  declareListenOptions(p);
  p.flag("debug", ": put debug message.");
  p.option("b", "string", ": base directory (full path)", { default: "/var/forest/walb/archive" });
  p.option("vg", "string", ": lvm volume group.", { default: "vg" });
  p.option("tp", "string", ": lvm thinpool (optional).", { default: "" });
  p.option("images", "string", ": image directory (file backend).", { default: "" });
  declareTaskOptions(p);
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
  declareKeepAliveOptions(p);
  return p;
}

const DISCARD_POLICIES: readonly string[] = ["ignore", "passdown", "zero"];

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
      checkKeepAliveOptions(options);
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
      const log = await openServerLog(options, baseDir);
      const logger = log.logger;
      const keepAlive = options.bool("ka");
      const { net, listen } = openServerNet(options);
      const versionDescription = SERVER_VERSION_DESCRIPTION;
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
          keepAlive: formatKeepAliveStatus(options),
        },
      });
      await runUntilShutdown({
        run: () => context.runtime.run(),
        requestShutdown: () => context.runtime.requestShutdown(true),
      }, log);
      return 0;
    });
  },
};
