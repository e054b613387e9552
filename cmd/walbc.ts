/**
 * `walb walbc`: the controller CLI (protocol-and-servers.md §3): global options before the
 * command name, the command's shape check, the local parameter check, one request with the
 * parameters sent verbatim, the result on stdout.
 *
 * Exit status: 0 success or `-h`; 1 usage error (error line and usage on stdout), local
 * check failure, connection error, server error text, EOF or timeout (one
 * `<time> ERROR walbc error: <message>` line on stderr).
 *
 * @module
 */
import { realClock } from "../lib/clock.ts";
import { AssertionError, UsageError } from "../lib/errors.ts";
import { DenoNet } from "../lib/net.ts";
import { RoleClient } from "../lib/controller/common_commands.ts";
import { DEFAULT_GET_RETRY_COUNT } from "../lib/controller/common_commands.ts";
import {
  formatShape,
  WALBC_COMMANDS,
  type WalbcCommand,
} from "../lib/controller/walbc_commands.ts";
import { type Command, type CommandIo, errorText, Logger, TextOut } from "./command.ts";
import { HelpRequested, OptionError, OptionParser, parseIntegerText } from "./option.ts";

/** The global usage: options and every command with its one-line help. */
export function walbcUsage(): string {
  const lines = [
    "walbc: controller of walb storage, proxy and archive servers (walb-tools 1.0.19).",
    "usage:walbc [opt] COMMAND [ARGS...]",
    "  -h : show this message.",
    "  -a : server host name or address (must)",
    "  -p : server port (must)",
    "  -to : socket timeout [sec] (default: 10)",
    "  -id : node identifier (default: the host name)",
    "  -debug : put debug messages to stderr.",
    "  -retry : number of retries of status and get (default: 2)",
    "commands (server kinds: S storage, P proxy, A archive):",
  ];
  for (const command of WALBC_COMMANDS.values()) {
    const head = `${command.name} ${formatShape(command.shape)}`;
    lines.push(`  ${head.padEnd(58)} ${command.servers.padEnd(3)} ${command.help}`);
  }
  lines.push("exit status: 0 success, 1 failure (usage, check, connection or server error)");
  return lines.join("\n") + "\n";
}

/** Parsed global options. */
interface GlobalOptions {
  address: string;
  port: number;
  timeoutSec: number;
  clientId: string;
  debug: boolean;
  retryCount: number | undefined;
}

const VALUE_OPTIONS = new Set(["a", "p", "to", "id", "retry"]);

function isOptionWord(word: string): boolean {
  return word.startsWith("-") && !/^-[0-9]/.test(word);
}

/**
 * Splits argv at the first command name: global options, the command, and its params
 * (stray words before the command prepended, as the original does).
 *
 * @throws {HelpRequested} for `-h` / {@link OptionError} for a usage error
 */
export function parseGlobal(
  args: readonly string[],
): { options: GlobalOptions; command: WalbcCommand; params: string[] } {
  const usage = walbcUsage();
  const values = new Map<string, string>();
  let debug = false;
  const stray: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const command = WALBC_COMMANDS.get(word);
    if (command !== undefined) {
      const options = globalOptions(values, debug, usage);
      return { options, command, params: [...stray, ...args.slice(i + 1)] };
    }
    if (!isOptionWord(word)) {
      stray.push(word);
      continue;
    }
    const name = word.slice(1);
    if (name === "h") throw new HelpRequested(usage);
    if (name === "debug") {
      debug = true;
    } else if (VALUE_OPTIONS.has(name)) {
      const value = args[i + 1];
      if (value === undefined) throw new OptionError(`bad value:no value for -${name}`, usage);
      values.set(name, value);
      i++;
    } else {
      throw new OptionError("bad opt", usage);
    }
  }
  throw new OptionError("command not specified", usage);
}

function globalOptions(
  values: Map<string, string>,
  debug: boolean,
  usage: string,
): GlobalOptions {
  const integer = (name: string, kind: "u16" | "u32", fallback?: number): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return fallback;
    const value = parseIntegerText(text, kind);
    if (value === null) throw new OptionError(`bad value:${text} for -${name}`, usage);
    return Number(value);
  };
  const address = values.get("a");
  if (address === undefined) throw new OptionError("opt is necessary:a", usage);
  const port = integer("p", "u16");
  if (port === undefined) throw new OptionError("opt is necessary:p", usage);
  return {
    address,
    port,
    timeoutSec: integer("to", "u32", 10)!,
    clientId: values.get("id") ?? Deno.hostname(),
    debug,
    retryCount: integer("retry", "u32"),
  };
}

/** The command's shape check (§3.1): `-h` → usage, any other option → error. */
function checkShape(command: WalbcCommand, params: readonly string[]): void {
  if (command.shape === null) return;
  const usage = `usage:walbc [opt] ${command.name} ${formatShape(command.shape)}\n` +
    `  ${command.help}\n`;
  const parser = new OptionParser(`walbc ${command.name}`, { usage });
  for (const word of command.shape) {
    const kind = word.kind === "int" ? "u64" : "string";
    if (word.variadic) parser.paramList(word.name, kind, "");
    else if (word.optional) {
      parser.param(word.name, kind, "", { default: kind === "u64" ? "0" : "" });
    } else parser.param(word.name, kind, "");
  }
  parser.parse(params);
}

async function run(args: string[], io: CommandIo): Promise<number> {
  const log = new Logger(io.stderr);
  const out = new TextOut(io.stdout);
  let code = 1;
  try {
    const { options, command, params } = parseGlobal(args);
    log.debugEnabled = options.debug;
    checkShape(command, params);
    code = await execute(command, params, options, log, out);
  } catch (error) {
    if (error instanceof HelpRequested) {
      out.write(error.usage);
      code = 0;
    } else if (error instanceof OptionError) {
      out.line(`OptionError:${error.message}`);
      out.write(error.usage);
      code = 1;
    } else {
      await out.flush().catch(() => {});
      await log.flush().catch(() => {});
      throw error;
    }
  }
  await out.flush();
  await log.flush();
  return code;
}

async function execute(
  command: WalbcCommand,
  params: string[],
  options: GlobalOptions,
  log: Logger,
  out: TextOut,
): Promise<number> {
  try {
    if (options.retryCount !== undefined && !command.retry) {
      throw new UsageError(`-retry is not allowed for ${command.name}`);
    }
    command.check(params);
    const clock = realClock;
    const client = new RoleClient(
      { address: options.address, port: options.port },
      {
        net: new DenoNet({ clock }),
        clock,
        clientId: options.clientId,
        timeoutMs: options.timeoutSec * 1000,
      },
    );
    log.debug(`walbc:${command.name}:${params.join(" ")}`);
    const lines = await command.run(client, params, {
      retryCount: command.retry ? options.retryCount ?? DEFAULT_GET_RETRY_COUNT : 0,
      onRetry: (error, attempt) => {
        log.raw(`error: ${describe(error)}\nretry ${attempt}\n`);
      },
    });
    for (const line of lines) out.line(line);
    return 0;
  } catch (error) {
    if (error instanceof AssertionError || !(error instanceof Error)) throw error;
    log.error(`walbc error: ${describe(error)}`);
    return 1;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? errorText(error) : String(error);
}

/** `walb walbc`. */
export const command: Command = {
  name: "walbc",
  summary: "controller of storage, proxy and archive servers",
  run,
};
