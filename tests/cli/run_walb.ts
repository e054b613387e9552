/**
 * Ways for tests to run `walb` commands: as a subprocess of the `./walb` launcher, or in-process
 * through the same `command.run` the binary calls. Not a test file, so importing it registers
 * no tests.
 *
 * @module
 */
import { loadCommand } from "../../cmd/main.ts";
import { MemorySink, MemorySource } from "../../lib/io/stream.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** What a subprocess run of `./walb` gave. */
export interface WalbResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `./walb args...` as a subprocess, with optional stdin bytes.
 *
 * @param args the arguments after `walb`
 * @param stdin bytes to write to its stdin (else stdin is closed)
 * @returns exit code, stdout and stderr
 */
export async function walb(args: string[], stdin?: Uint8Array): Promise<WalbResult> {
  const child = new Deno.Command(`${ROOT}walb`, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs `walb name args...` in-process and requires exit status 0.
 *
 * @param name the subcommand
 * @param args its arguments
 * @param stdin its stdin bytes
 * @returns its stdout text
 * @throws Error with stdout and stderr when the command is unknown or exits non-zero
 */
export async function walbInProcess(
  name: string,
  args: string[],
  stdin: Uint8Array = new Uint8Array(),
): Promise<string> {
  const command = await loadCommand(name);
  if (command === undefined) throw new Error(`no command ${name}`);
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const code = await command.run(args, { stdin: new MemorySource(stdin), stdout, stderr });
  if (code !== 0) {
    throw new Error(
      `walb ${name} ${args.join(" ")} exited ${code}\n${stdout.text()}${stderr.text()}`,
    );
  }
  return stdout.text();
}
