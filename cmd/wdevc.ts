/**
 * `walb wdevc`: WalB device control (device-and-wlog.md §7) for kernel devices
 * (`/dev/walb/NAME`) and userland devices (`<run dir>/NAME`), with the original syntax
 * `wdevc [-debug] [-h] <command> [<args and command options in any order>]` and output. The
 * backend is picked from what the WDEV path is; format-ldev and create-wdev pick the kernel
 * when /dev/walb/control exists, unless `--backend user|kernel` says otherwise.
 *
 * Exit status: 0 success; 1 a failure (one `ERROR wdevc:` line), a bad option, or a missing
 * or unknown command.
 *
 * @module
 */
import { type Command, type CommandIo, runTool, type ToolContext } from "./command.ts";
import { OptionParser, type ParsedOptions } from "./option.ts";
import { WDEVC_COMMANDS, type WdevcCommand } from "./wdevc_commands.ts";
import { runDaemon } from "./wdevc_daemon.ts";

/** The top-level usage. */
export function wdevcUsage(): string {
  const lines = [
    "usage: wdevc [-debug] [-h] <command> [<args and command options>]",
    "  -debug : put debug messages.",
    "  -h : show this message.",
    "commands:",
  ];
  for (const [name, spec] of Object.entries(WDEVC_COMMANDS)) {
    lines.push(`  ${name} ${spec.synopsis}`);
  }
  return lines.join("\n") + "\n";
}

function commandParser(name: string, spec: WdevcCommand): OptionParser {
  const parser = new OptionParser(`wdevc ${name}`, { description: spec.summary });
  spec.declare(parser);
  return parser;
}

/** Runs `wdevc` with `args` (the words after `wdevc`). */
export function runWdevc(args: string[], io: CommandIo): Promise<number> {
  let index = 0;
  let debug = false;
  let help = false;
  while (index < args.length && args[index]!.startsWith("-")) {
    const flag = args[index]!;
    if (flag === "-debug") debug = true;
    else if (flag === "-h" || flag === "--help") help = true;
    else break;
    index++;
  }
  const name = args[index];
  if (name === "run-daemon") return runDaemon(args.slice(index + 1));
  return runTool("wdevc", io, async (context: ToolContext) => {
    context.log.debugEnabled = debug;
    if (name === undefined || help) {
      context.out.write(wdevcUsage());
      return help && name === undefined ? 0 : 1;
    }
    const spec = WDEVC_COMMANDS[name];
    if (spec === undefined) {
      context.log.error(`wdevc:unknown command: ${name}`);
      context.out.write(wdevcUsage());
      return 1;
    }
    const opts: ParsedOptions = commandParser(name, spec).parse(args.slice(index + 1));
    context.log.debug(`wdevc ${name} ${args.slice(index + 1).join(" ")}`);
    return await spec.run(opts, context);
  });
}

/** `wdevc` */
export const command: Command = {
  name: "wdevc",
  summary: "WalB device control (kernel and userland devices)",
  run: runWdevc,
};
