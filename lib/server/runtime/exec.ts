/**
 * The `exec` command of every server role (protocol-and-servers.md §1.9.4): with `-allow-exec`
 * the server runs a program (absolute path, stdin /dev/null) and answers its stdout lines;
 * without it the request is refused with `exec command is not allowed`. The run is bounded in
 * time and in output size so that a client cannot tie a handler up or fill the memory.
 *
 * @module
 */
import type { Clock } from "../../clock.ts";
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import {
  receiveStringVector,
  sendErrorReply,
  sendFinalStatus,
  sendValueReply,
} from "../../protocol/reply.ts";
import type { ServerContext } from "./server.ts";

/** Bounds of one `exec` run. */
export const EXEC_LIMITS = {
  /** A test-setup program (mkfs, dd, lvcreate) finishes well within this; then it is killed. */
  timeoutMs: 600_000,
  /** stdout plus stderr kept per run: the reply is one message held in memory. */
  outputBytesMax: 4 << 20,
} as const;

/** Options of {@link runExecProgram}. */
export interface ExecRunOptions {
  clock: Clock;
  /** Aborts the run (the program is killed). */
  signal?: AbortSignal;
  timeoutMs?: number;
  outputBytesMax?: number;
}

/** Thrown by {@link readBounded} when the output budget is used up. */
class OutputTooLarge extends Error {}

/** Reads a stream whole, failing once the shared budget of bytes is used up. */
async function readBounded(
  stream: ReadableStream<Uint8Array>,
  budget: { remaining: number },
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    budget.remaining -= chunk.length;
    if (budget.remaining < 0) throw new OutputTooLarge("exec output budget used up");
    chunks.push(chunk);
    size += chunk.length;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Runs `argv` (argv[0] an absolute path) with stdin from /dev/null and returns its stdout split
 * on `\r`/`\n` with empty lines removed.
 *
 * @param argv the program and its arguments
 * @param options clock, abort signal and bounds (defaults {@link EXEC_LIMITS})
 * @returns the non-empty stdout lines
 * @throws {RequestError} on a relative path, a start failure, a non-zero exit (the text has the
 *   status, the command line and stderr), a timeout or too much output
 * @example
 * ```ts
 * import { runExecProgram } from "./exec.ts";
 * import { realClock } from "../../clock.ts";
 * const lines = await runExecProgram(["/bin/echo", "a\n\nb"], { clock: realClock });
 * if (lines.join(",") !== "a,b") throw new Error(lines.join(","));
 * ```
 */
export async function runExecProgram(
  argv: readonly string[],
  options: ExecRunOptions,
): Promise<string[]> {
  const program = argv[0];
  if (program === undefined) throw new RequestError("exec:no command specified");
  if (!program.startsWith("/")) throw new RequestError(`exec:not an absolute path:${program}`);
  const commandLine = argv.join(" ");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RequestError(`exec:cannot run:${commandLine}:${detail}`, { cause: error });
  }
  const stopTimer = new AbortController();
  let killedBy: string | undefined;
  const kill = (reason: string) => {
    if (killedBy !== undefined) return;
    killedBy = reason;
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
  };
  const timeoutMs = options.timeoutMs ?? EXEC_LIMITS.timeoutMs;
  const timer = options.clock.sleep(timeoutMs, stopTimer.signal).then(
    () => kill(`timeout ${timeoutMs} ms`),
    () => {},
  );
  const onAbort = () => kill("aborted");
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted === true) onAbort();
  const outputBytesMax = options.outputBytesMax ?? EXEC_LIMITS.outputBytesMax;
  const budget = { remaining: outputBytesMax };
  try {
    let stdout: Uint8Array;
    let stderr: Uint8Array;
    try {
      [stdout, stderr] = await Promise.all([
        readBounded(child.stdout, budget),
        readBounded(child.stderr, budget),
      ]);
    } catch (error) {
      if (!(error instanceof OutputTooLarge)) throw error;
      kill("output too large");
      await child.status;
      throw new RequestError(`exec:output over ${outputBytesMax} bytes:${commandLine}`, {
        cause: error,
      });
    }
    const status = await child.status;
    if (killedBy !== undefined) throw new RequestError(`exec:killed (${killedBy}):${commandLine}`);
    const decoder = new TextDecoder();
    if (!status.success) {
      throw new RequestError(
        `exec:exit status ${status.code}:${commandLine}:${decoder.decode(stderr).trimEnd()}`,
      );
    }
    return decoder.decode(stdout).split(/[\r\n]/).filter((line) => line !== "");
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stopTimer.abort();
    await timer;
  }
}

/**
 * Serves `exec`: RECVVEC(0); refused with `exec command is not allowed` unless `allowed`;
 * otherwise runs the program and answers `"ok"`, the stdout lines and Ack (P-VALUE), or the
 * error text.
 *
 * @param server the connection
 * @param allowed the server's `-allow-exec`
 */
export async function serveExec(server: ServerContext, allowed: boolean): Promise<void> {
  let lines: string[];
  try {
    const argv = await receiveStringVector(server.packet);
    if (!allowed) {
      await sendFinalStatus(server.packet, STATUS.execNotAllowed);
      return;
    }
    server.log("INFO", `exec:${argv.join(" ")}`);
    lines = await runExecProgram(argv, { clock: server.runtime.clock, signal: server.signal });
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    server.log("WARNING", error.message);
    await sendErrorReply(server.packet, error.message);
    return;
  }
  await sendValueReply(server.packet, { type: "lines", value: lines });
}
