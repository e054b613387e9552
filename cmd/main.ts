/**
 * Entry point of the walb binary: `walb <subcommand> [args...]`.
 *
 * Subcommands live one per file in cmd/, named after the command with `-` replaced by `_`,
 * each exporting `command: Command`. Only this file calls Deno.exit.
 *
 * @module
 */
import { AssertionError } from "../lib/errors.ts";
import { type Command, processIo } from "./command.ts";

/** Every subcommand, in the order `walb --help` lists them. */
export const COMMAND_NAMES = [
  "demo",
  "wlog-gen",
  "wlog-show",
  "wlog-to-wdiff",
  "wlog-redo",
  "wlog-update",
  "wlog-cat",
  "wlog-restore",
  "wldev-info",
  "wldev-show",
  "wldev-dump",
  "wdev-redo",
  "wdiff-show",
  "wdiff-merge",
  "wdiff-redo",
  "wdiff-full",
  "virt-full-cat",
  "wdiff-name-gen",
  "bdiff",
  "write_random_data",
  "verify_written_data",
  "archive",
  "proxy",
  "storage",
  "walbc",
  "wdiff-send",
  "wdevc",
] as const;

const EXIT_USAGE = 2;
const EXIT_BUG = 70;

/** Loads the command module of `name`, or undefined if there is none. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) return undefined;
  const module = await import(`./${name.replaceAll("-", "_")}.ts`) as { command?: Command };
  return module.command;
}

async function help(): Promise<string> {
  const lines = [
    "walb: WalB backup and replication tools (walb-tools 1.0.19 compatible).",
    "usage: walb <command> [args...]     (walb <command> -h for the command's options)",
    "",
    "commands:",
  ];
  for (const name of COMMAND_NAMES) {
    const command = await loadCommand(name).catch(() => undefined);
    lines.push(`  ${name.padEnd(20)} ${command?.summary ?? "(not available)"}`);
  }
  lines.push("", "exit status: 0 success, 1 failure, 2 unknown command, 70 internal error (a bug)");
  return lines.join("\n") + "\n";
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    await Deno.stdout.write(new TextEncoder().encode(await help()));
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = await loadCommand(name);
  if (command === undefined) {
    await Deno.stderr.write(
      new TextEncoder().encode(`walb: unknown command '${name}' (see 'walb --help')\n`),
    );
    return EXIT_USAGE;
  }
  return await command.run(rest, processIo());
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    const kind = error instanceof AssertionError ? "internal error (a bug)" : "unexpected error";
    console.error(`walb: ${kind}:`, error);
    code = EXIT_BUG;
  }
  Deno.exit(code);
}
