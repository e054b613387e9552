/**
 * wdevc's device lifecycle commands: format-ldev, create-wdev, delete-wdev, list and
 * get-version, on the kernel backend (ioctls on /dev/walb/control) or the userland one (a
 * daemon per device in the run directory).
 *
 * @module
 */
import { type BlockDevice, openBlockDevice } from "../lib/device/block/mod.ts";
import {
  kernelVersion,
  listKernelDevices,
  startKernelDevice,
  stopKernelDevice,
} from "../lib/device/kernel/control.ts";
import {
  checkStartParam,
  WALB_START_PARAM_DEFAULTS,
  type WalbStartParam,
} from "../lib/device/start_param.ts";
import { queryDaemon, UserlandWalbDevice } from "../lib/device/userland/client.ts";
import {
  checkUserlandName,
  defaultRunDir,
  freeUserlandName,
  userlandNames,
  userlandPaths,
} from "../lib/device/userland/paths.ts";
import { UsageError } from "../lib/errors.ts";
import { formatLdev } from "../lib/device/walb/format.ts";
import { kernelModuleLoaded, type WalbBackendKind, walbBackendOf } from "../lib/device/wdev.ts";
import { WalbDeviceError } from "../lib/device/wdev_error.ts";
import { readWldevSuper } from "../lib/device/wldev.ts";
import type { ToolContext } from "./command.ts";
import type { OptionParser, ParsedOptions } from "./option.ts";
import { formatSuper } from "./wldev_info.ts";
import { spawnDaemon } from "./wdevc_daemon.ts";

/** Declares `--backend user|kernel`. */
export function declareBackend(p: OptionParser): void {
  p.option(
    "-backend",
    "string",
    "user|kernel: device backend (default kernel when /dev/walb/control exists)",
  );
}

/** The backend format-ldev/create-wdev use. */
async function chooseBackend(opts: ParsedOptions): Promise<WalbBackendKind> {
  if (opts.isSet("-backend")) {
    const value = opts.str("-backend");
    if (value !== "user" && value !== "kernel") {
      throw new WalbDeviceError(
        "choose backend",
        "EINVAL",
        `--backend ${value} is not user or kernel`,
      );
    }
    return value;
  }
  return (await kernelModuleLoaded()) ? "kernel" : "user";
}

async function absolute(path: string): Promise<string> {
  return await Deno.realPath(path);
}

/** Refuses paths a live userland daemon uses (format-ldev must not pull a log away). */
async function checkUnusedByDaemons(paths: string[]): Promise<void> {
  const runDir = defaultRunDir();
  const wanted = new Set(await Promise.all(paths.map(absolute)));
  for (const name of await userlandNames(runDir)) {
    const info = await queryDaemon(userlandPaths(runDir, name).controlPath);
    if (info === undefined) continue;
    for (const used of [info.ldevPath, info.ddevPath]) {
      const real = await absolute(used).catch(() => used);
      if (wanted.has(real)) {
        throw new WalbDeviceError("use " + used, "EBUSY", `device ${info.name} uses it`);
      }
    }
  }
}

async function requireBlockDevice(path: string, what: string): Promise<void> {
  if ((await Deno.stat(path)).isBlockDevice !== true) {
    throw new WalbDeviceError(`use ${what} ${path}`, "EINVAL", "not a block device");
  }
}

/** `format-ldev LDEV DDEV [-n NAME] [-nd]`: §2.4; prints the super fields. */
export async function formatLdevCommand(
  opts: ParsedOptions,
  { out }: ToolContext,
): Promise<number> {
  const ldevPath = opts.str("LDEV");
  const ddevPath = opts.str("DDEV");
  const backend = await chooseBackend(opts);
  if (backend === "kernel") {
    await requireBlockDevice(ldevPath, "ldev");
    await requireBlockDevice(ddevPath, "ddev");
  } else {
    await checkUnusedByDaemons([ldevPath, ddevPath]);
  }
  const opened: BlockDevice[] = [];
  try {
    const ldev = await openBlockDevice(ldevPath);
    opened.push(ldev);
    const ddev = await openBlockDevice(ddevPath, { readOnly: true });
    opened.push(ddev);
    const sup = await formatLdev(ldev, ddev, {
      name: opts.isSet("n") ? opts.str("n") : "",
      discard: !opts.bool("nd"),
    });
    out.line(formatSuper(sup));
  } finally {
    for (const device of opened) await device.close();
  }
  return 0;
}

function startParamOf(opts: ParsedOptions): WalbStartParam {
  const param = { ...WALB_START_PARAM_DEFAULTS };
  if (opts.isSet("n")) param.name = opts.str("n");
  const fields: [string, keyof Omit<WalbStartParam, "name">][] = [
    ["maxl", "maxLogpackKb"],
    ["maxp", "maxPendingMb"],
    ["minp", "minPendingMb"],
    ["qp", "queueStopTimeoutMs"],
    ["fs", "logFlushIntervalMb"],
    ["fp", "logFlushIntervalMs"],
    ["bp", "nPackBulk"],
    ["bi", "nIoBulk"],
  ];
  for (const [option, field] of fields) if (opts.isSet(option)) param[field] = opts.num(option);
  return param;
}

/** Declares create-wdev's options. */
export function declareCreate(p: OptionParser): void {
  p.param("LDEV", "string", "");
  p.param("DDEV", "string", "");
  p.option("n", "string", "NAME: device name");
  p.option("maxl", "u32", "KiB: max logpack size", { default: "32" });
  p.option("maxp", "u32", "MiB: max pending size", { default: "32" });
  p.option("minp", "u32", "MiB: min pending size", { default: "16" });
  p.option("qp", "u32", "ms: queue stop period", { default: "100" });
  p.option("fs", "u32", "MiB: log flush interval size", { default: "16" });
  p.option("fp", "u32", "ms: log flush interval period", { default: "100" });
  p.option("bp", "u32", "N: packs per batch", { default: "128" });
  p.option("bi", "u32", "N: IOs per batch", { default: "1024" });
  declareBackend(p);
  p.option("-tcp", "u32", "PORT: userland only, also serve NBD on this TCP port (0 = any)");
  p.option("-tcp-host", "string", "HOST: userland only, TCP address", { default: "127.0.0.1" });
  p.flag(
    "-error-before-overflow",
    ": userland only, fail writes (ENOSPC) instead of overwriting log not yet extracted",
  );
}

/** `create-wdev LDEV DDEV [-n NAME] [...]`: START_DEV, or start a userland daemon. */
export async function createWdevCommand(
  opts: ParsedOptions,
  { out }: ToolContext,
): Promise<number> {
  const param = startParamOf(opts);
  checkStartParam(param);
  const ldevPath = await absolute(opts.str("LDEV"));
  const ddevPath = await absolute(opts.str("DDEV"));
  const errorBeforeOverflow = opts.bool("-error-before-overflow");
  if ((await chooseBackend(opts)) === "kernel") {
    if (errorBeforeOverflow) {
      throw new UsageError(
        "--error-before-overflow is for userland devices (the kernel module's parameter " +
          "error_before_overflow sets it for all kernel devices)",
      );
    }
    const started = await startKernelDevice(ldevPath, ddevPath, param);
    out.line(`name ${started.name}`);
    out.line(`major ${started.major}`);
    out.line(`minor ${started.minor}`);
    return 0;
  }
  const runDir = defaultRunDir();
  let name = param.name;
  if (name === "") name = (await readWldevSuper(ldevPath)).name;
  if (name === "") name = await freeUserlandName(runDir);
  checkUserlandName(name);
  const spec: Parameters<typeof spawnDaemon>[0] = {
    runDir,
    name,
    ldevPath,
    ddevPath,
    engine: {
      maxLogpackKb: param.maxLogpackKb,
      maxPendingMb: param.maxPendingMb,
      minPendingMb: param.minPendingMb,
      logFlushIntervalMb: param.logFlushIntervalMb,
      logFlushIntervalMs: param.logFlushIntervalMs,
      ...(errorBeforeOverflow ? { errorBeforeOverflow } : {}),
    },
  };
  if (opts.isSet("-tcp")) spec.tcp = { hostname: opts.str("-tcp-host"), port: opts.num("-tcp") };
  const info = await spawnDaemon(spec);
  const paths = userlandPaths(runDir, info.name);
  out.line(`name ${info.name}`);
  out.line(`path ${paths.controlPath}`);
  out.line(`nbd ${paths.nbdUri}`);
  return 0;
}

/** `delete-wdev WDEV [-f]`: STOP_DEV, or a clean stop of the daemon. */
export async function deleteWdevCommand(opts: ParsedOptions): Promise<number> {
  const path = opts.str("WDEV");
  const force = opts.bool("f");
  if ((await walbBackendOf(path)) === "kernel") await stopKernelDevice(path, force);
  else await new UserlandWalbDevice(path).stopDaemon(force);
  return 0;
}

/** `list`: kernel devices as `<major> <minor> walb/<name>`, then `user NAME PATH NBD_URI`. */
export async function listCommand(_opts: ParsedOptions, { out }: ToolContext): Promise<number> {
  if (await kernelModuleLoaded()) {
    for (const disk of listKernelDevices()) out.line(`${disk.major} ${disk.minor} ${disk.name}`);
  }
  const runDir = defaultRunDir();
  for (const name of await userlandNames(runDir)) {
    const paths = userlandPaths(runDir, name);
    const info = await queryDaemon(paths.controlPath);
    if (info !== undefined) out.line(`user ${info.name} ${paths.controlPath} ${paths.nbdUri}`);
  }
  return 0;
}

/** `get-version`: the kernel driver's version (needs the module). */
export async function getVersionCommand(
  _opts: ParsedOptions,
  { out }: ToolContext,
): Promise<number> {
  if (!(await kernelModuleLoaded())) {
    throw new WalbDeviceError(
      "get the WalB driver version",
      "ENODEV",
      "/dev/walb/control does not exist (no kernel module; userland devices have no driver version)",
    );
  }
  out.line(kernelVersion());
  return 0;
}
