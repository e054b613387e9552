/**
 * The userland WalB device daemon process (`walb wdevc run-daemon …`, hidden) and
 * {@link spawnDaemon}, which create-wdev uses to start it detached and wait until it serves.
 *
 * The daemon reports readiness with one JSON line on stdout — `{"ready": DaemonInfo}` or
 * `{"error": message}` — then closes stdout; it logs to `<run dir>/NAME.log`. SIGTERM and
 * SIGINT stop it cleanly (§5.9), as `wdevc delete-wdev` does.
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { type NbdLogger } from "../lib/nbd/backend.ts";
import { type DaemonEngineOptions, WalbDaemon } from "../lib/device/userland/daemon.ts";
import { recordClose, traceClose } from "../lib/device/userland/close_trace.ts";
import { USERLAND_LIMITS } from "../lib/device/userland/limits.ts";
import { userlandPaths } from "../lib/device/userland/paths.ts";
import type { DaemonInfo } from "../lib/device/userland/protocol.ts";
import { errorText, Logger } from "./command.ts";
import { OptionParser } from "./option.ts";

/** Everything the daemon process needs; create-wdev builds it. */
export interface DaemonSpec {
  runDir: string;
  name: string;
  ldevPath: string;
  ddevPath: string;
  engine: DaemonEngineOptions;
  tcp?: { hostname: string; port: number };
}

/** The hidden subcommand's parser. */
function parser(): OptionParser {
  const p = new OptionParser("wdevc run-daemon");
  p.param("LDEV", "string", "");
  p.param("DDEV", "string", "");
  p.required("n", "string", "NAME");
  p.required("-run-dir", "string", "DIR");
  p.option("maxl", "u32", "max logpack KiB");
  p.option("maxp", "u32", "max pending MiB");
  p.option("minp", "u32", "min pending MiB");
  p.option("fs", "u32", "log flush interval MiB");
  p.option("fp", "u32", "log flush interval ms");
  p.option("-tcp", "u32", "NBD TCP port");
  p.option("-tcp-host", "string", "NBD TCP host", { default: "127.0.0.1" });
  p.flag("-error-before-overflow", ": fail writes instead of overflowing the log");
  return p;
}

/** The arguments of run-daemon for `spec` (what {@link spawnDaemon} passes). */
export function daemonArgs(spec: DaemonSpec): string[] {
  const args = [spec.ldevPath, spec.ddevPath, "-n", spec.name, "--run-dir", spec.runDir];
  const engine = spec.engine;
  const numbers: [string, number | undefined][] = [
    ["-maxl", engine.maxLogpackKb],
    ["-maxp", engine.maxPendingMb],
    ["-minp", engine.minPendingMb],
    ["-fs", engine.logFlushIntervalMb],
    ["-fp", engine.logFlushIntervalMs],
  ];
  for (const [flag, value] of numbers) if (value !== undefined) args.push(flag, `${value}`);
  if (engine.errorBeforeOverflow === true) args.push("--error-before-overflow");
  if (spec.tcp !== undefined) {
    args.push("--tcp", `${spec.tcp.port}`, "--tcp-host", spec.tcp.hostname);
  }
  return args;
}

/** Opens the log file the daemon writes to (append). */
async function openLog(path: string): Promise<Deno.FsFile> {
  return traceClose(
    await Deno.open(path, { create: true, append: true, write: true }),
    `log file ${path}`,
  );
}

function nbdLoggerOf(log: Logger): NbdLogger {
  const text = (message: string, error?: unknown) =>
    error === undefined
      ? message
      : `${message}: ${error instanceof Error ? errorText(error) : String(error)}`;
  // Errors are bugs or I/O failures: the stack goes into the log too.
  const stack = (error: unknown) =>
    error instanceof Error && error.stack !== undefined ? `\n${error.stack}` : "";
  return {
    info: (message) => log.info(message),
    warn: (message, error) => log.warn(text(message, error)),
    error: (message, error) => log.error(text(message, error) + stack(error)),
  };
}

async function report(
  stdout: { write(bytes: Uint8Array): Promise<number> },
  message: object,
): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(message) + "\n");
  for (let done = 0; done < bytes.length;) done += await stdout.write(bytes.subarray(done));
}

/**
 * Runs the daemon until it is stopped (SIGTERM, SIGINT or the control socket's `stop`).
 *
 * @returns 0 after a clean stop, 1 when the device did not start
 */
export async function runDaemon(args: string[]): Promise<number> {
  const opts = parser().parse(args);
  const name = opts.str("n");
  const runDir = opts.str("-run-dir");
  await Deno.mkdir(runDir, { recursive: true });
  const logFile = await openLog(userlandPaths(runDir, name).logPath);
  const log = new Logger(logFile);
  const engine: DaemonEngineOptions = {};
  if (opts.isSet("maxl")) engine.maxLogpackKb = opts.num("maxl");
  if (opts.isSet("maxp")) engine.maxPendingMb = opts.num("maxp");
  if (opts.isSet("minp")) engine.minPendingMb = opts.num("minp");
  if (opts.isSet("fs")) engine.logFlushIntervalMb = opts.num("fs");
  if (opts.isSet("fp")) engine.logFlushIntervalMs = opts.num("fp");
  if (opts.bool("-error-before-overflow")) engine.errorBeforeOverflow = true;
  const stdout = Deno.stdout;
  let daemon: WalbDaemon;
  try {
    const options: Parameters<typeof WalbDaemon.start>[0] = {
      runDir,
      name,
      ldevPath: opts.str("LDEV"),
      ddevPath: opts.str("DDEV"),
      engine,
      clock: realClock,
      logger: nbdLoggerOf(log),
    };
    if (opts.isSet("-tcp")) {
      options.tcp = { hostname: opts.str("-tcp-host"), port: opts.num("-tcp") };
    }
    daemon = await WalbDaemon.start(options);
  } catch (error) {
    const message = error instanceof Error ? errorText(error) : String(error);
    log.error(`start device ${name}: ${message}`);
    await report(stdout, { error: message });
    await log.flush();
    logFile.close();
    return 1;
  }
  const stop = () => void daemon.stop(true);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  log.info(`device ${name} serves ${daemon.paths.nbdUri} (pid ${Deno.pid})`);
  await report(stdout, { ready: daemon.info() });
  recordClose("stdout (readiness reported)");
  Deno.stdout.close();
  await daemon.done;
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGINT", stop);
  log.info(`device ${name} stopped`);
  await log.flush();
  logFile.close();
  return 0;
}

/** argv that runs `walb` itself: the compiled binary, or deno on cmd/main.ts. */
function walbArgv(): { command: string; args: string[] } {
  const exec = Deno.execPath();
  const base = exec.slice(exec.lastIndexOf("/") + 1);
  if (!base.startsWith("deno")) return { command: exec, args: [] };
  const main = new URL("./main.ts", import.meta.url);
  const config = new URL("../deno.json", import.meta.url);
  const args = ["run", "--allow-all"];
  try {
    Deno.statSync(config);
    args.push("--config", decodeURIComponent(config.pathname));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  args.push(decodeURIComponent(main.pathname));
  return { command: exec, args };
}

/**
 * Starts a detached daemon for `spec` and waits until it serves.
 *
 * @returns the daemon's info
 * @throws {Error} with the daemon's own message when it failed to start, or on timeout
 */
export async function spawnDaemon(spec: DaemonSpec): Promise<DaemonInfo> {
  const walb = walbArgv();
  const child = new Deno.Command(walb.command, {
    args: [...walb.args, "wdevc", "run-daemon", ...daemonArgs(spec)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    detached: true,
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }, USERLAND_LIMITS.daemonStartMsMax);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  const line = text.split("\n")[0] ?? "";
  if (line === "") {
    const status = await child.status;
    throw new Error(
      `the device daemon exited (code ${status.code}) before serving; see ${
        userlandPaths(spec.runDir, spec.name).logPath
      }`,
    );
  }
  const message = JSON.parse(line) as { ready?: DaemonInfo; error?: string };
  if (message.ready === undefined) {
    await child.status;
    throw new Error(message.error ?? "the device daemon failed to start");
  }
  child.unref();
  return message.ready;
}
