/**
 * The wdevc subcommand table (device-and-wlog.md §7): each command's synopsis, options and
 * body. Device commands open WDEV with the backend its path calls for.
 *
 * @module
 */
import { KernelWalbDevice } from "../lib/device/kernel/device.ts";
import { formatLsids } from "../lib/device/kernel/sysfs.ts";
import { openWalbDevice, type WalbDevice } from "../lib/device/wdev.ts";
import type { ToolContext } from "./command.ts";
import type { OptionParser, ParsedOptions } from "./option.ts";
import {
  createWdevCommand,
  declareBackend,
  declareCreate,
  deleteWdevCommand,
  formatLdevCommand,
  getVersionCommand,
  listCommand,
} from "./wdevc_lifecycle.ts";

/** One wdevc subcommand. */
export interface WdevcCommand {
  synopsis: string;
  summary: string;
  declare(parser: OptionParser): void;
  run(opts: ParsedOptions, context: ToolContext): Promise<number>;
}

async function withDevice<T>(
  opts: ParsedOptions,
  body: (device: WalbDevice) => Promise<T>,
): Promise<T> {
  const device = await openWalbDevice(opts.str("WDEV"));
  try {
    return await body(device);
  } finally {
    await device.close();
  }
}

const wdevParam = (p: OptionParser) => p.param("WDEV", "string", "");

/** A command on WDEV that prints what `get` returns (nothing when undefined). */
function deviceCommand(
  synopsis: string,
  summary: string,
  get: (device: WalbDevice, opts: ParsedOptions) => Promise<string | undefined>,
  declareMore: (p: OptionParser) => void = () => {},
): WdevcCommand {
  return {
    synopsis,
    summary,
    declare: (p) => {
      wdevParam(p);
      declareMore(p);
    },
    run: async (opts, { out }) => {
      const text = await withDevice(opts, (device) => get(device, opts));
      if (text !== undefined) out.line(text);
      return 0;
    },
  };
}

const bit = (value: boolean) => (value ? "1" : "0");

/** get-*-lsid: the GET ioctl on a kernel device, the lsid set on a userland one. */
function lsidCommand(which: "oldest" | "written" | "permanent" | "completed"): WdevcCommand {
  return deviceCommand("WDEV", `print the ${which} lsid`, async (device) => {
    if (device instanceof KernelWalbDevice) return `${device.getLsid(which)}`;
    return `${(await device.lsids())[which]}`;
  });
}

const isFrozen = deviceCommand(
  "WDEV",
  "print 1 if frozen, else 0",
  async (d) => bit(await d.isFrozen()),
);
const forceCheckpoint = deviceCommand("WDEV", "take a checkpoint now", async (d) => {
  await d.takeCheckpoint();
  return undefined;
});

/** Every subcommand, in the order of the usage text. */
export const WDEVC_COMMANDS: Record<string, WdevcCommand> = {
  "format-ldev": {
    synopsis: "LDEV DDEV [-n NAME] [-nd]",
    summary: "format a log device",
    declare: (p) => {
      p.param("LDEV", "string", "");
      p.param("DDEV", "string", "");
      p.option("n", "string", "NAME: device name");
      p.flag("nd", ": disable discard.");
      declareBackend(p);
    },
    run: formatLdevCommand,
  },
  "create-wdev": {
    synopsis:
      "LDEV DDEV [-n NAME] [-maxl KiB] [-maxp MiB] [-minp MiB] [-qp ms] [-fs MiB] [-fp ms] [-bp N] [-bi N]",
    summary: "create a WalB device",
    declare: declareCreate,
    run: createWdevCommand,
  },
  "delete-wdev": {
    synopsis: "WDEV [-f]",
    summary: "delete a WalB device",
    declare: (p) => {
      wdevParam(p);
      p.flag("f", ": force to delete.");
    },
    run: deleteWdevCommand,
  },
  "list": {
    synopsis: "",
    summary: "list WalB devices",
    declare: () => {},
    run: listCommand,
  },
  "set-checkpoint-interval": deviceCommand(
    "WDEV INTERVAL_MS",
    "set the checkpoint interval",
    async (d, opts) => {
      await d.setCheckpointInterval(opts.num("INTERVAL_MS"));
      return undefined;
    },
    (p) => p.param("INTERVAL_MS", "u32", ""),
  ),
  "get-checkpoint-interval": deviceCommand(
    "WDEV",
    "print the checkpoint interval [ms]",
    async (d) => `${await d.getCheckpointInterval()}`,
  ),
  "force-checkpoint": forceCheckpoint,
  "take-checkpoint": forceCheckpoint,
  "set-oldest-lsid": deviceCommand(
    "WDEV LSID",
    "set the oldest lsid",
    async (d, opts) => {
      await d.setOldestLsid(opts.big("LSID"));
      return undefined;
    },
    (p) => p.param("LSID", "u64", ""),
  ),
  "get-oldest-lsid": lsidCommand("oldest"),
  "get-written-lsid": lsidCommand("written"),
  "get-permanent-lsid": lsidCommand("permanent"),
  "get-completed-lsid": lsidCommand("completed"),
  "get-lsids": deviceCommand(
    "WDEV",
    "print the lsid set as the kernel's sysfs lsids file (extension)",
    async (d) => formatLsids(await d.lsids()).replace(/\n$/, ""),
  ),
  "get-log-usage": deviceCommand(
    "WDEV",
    "print the log usage [pb]",
    async (d) => `${await d.logUsage()}`,
  ),
  "get-log-capacity": deviceCommand(
    "WDEV",
    "print the log capacity [pb]",
    async (d) => `${await d.logCapacity()}`,
  ),
  "is-flush-capable": deviceCommand(
    "WDEV",
    "print 1 if the device takes flushes",
    async (d) => bit(await d.isFlushCapable()),
  ),
  "resize": deviceCommand(
    "WDEV [SIZE_LB]",
    "grow the device (0 = the ddev size)",
    async (d, opts) => {
      await d.resize(opts.big("SIZE_LB"));
      return undefined;
    },
    (p) => p.param("SIZE_LB", "u64", "", { default: "0" }),
  ),
  "is-log-overflow": deviceCommand(
    "WDEV",
    "print 1 if the log overflowed",
    async (d) => bit(await d.isOverflow()),
  ),
  "reset-wal": deviceCommand("WDEV", "reset the log (all logs are lost)", async (d) => {
    await d.resetWal();
    return undefined;
  }),
  "clear-wal": deviceCommand(
    "WDEV [TIMEOUT_SEC]",
    "delete every log once its data is on the ddev",
    async (d, opts) => {
      await d.clearWal(opts.num("TIMEOUT_SEC"));
      return undefined;
    },
    (p) => p.param("TIMEOUT_SEC", "u32", "", { default: "0" }),
  ),
  "freeze": deviceCommand(
    "WDEV [TIMEOUT_SEC]",
    "freeze the device (0 = until melted)",
    async (d, opts) => {
      await d.freeze(opts.num("TIMEOUT_SEC"));
      return undefined;
    },
    (p) => p.param("TIMEOUT_SEC", "u32", "", { default: "0" }),
  ),
  "is-flozen": isFrozen,
  "is-frozen": isFrozen,
  "melt": deviceCommand("WDEV", "melt the device", async (d) => {
    await d.melt();
    return undefined;
  }),
  "get-version": {
    synopsis: "",
    summary: "print the WalB driver version",
    declare: () => {},
    run: getVersionCommand,
  },
};
