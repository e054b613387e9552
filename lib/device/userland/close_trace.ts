/**
 * Close records of the daemon's handles: who closed what, when, with the closing call's
 * stack. A daemon once turned read-only on its first write with Deno's "Bad resource ID" (a
 * handle of its own closed early) and the cause was never found; when the engine turns
 * read-only the daemon logs these records with the error's cause chain, so the next
 * occurrence names the closing call.
 *
 * @module
 */
import { USERLAND_LIMITS } from "./limits.ts";

/** One recorded close. */
export interface CloseRecord {
  label: string;
  atMs: number;
  stack: string;
}

const records: CloseRecord[] = [];

/** Records that `label` is being closed here (the newest {@link USERLAND_LIMITS}.closeRecordsMax are kept). */
export function recordClose(label: string): void {
  const stack = new Error(`${label} closed`).stack ?? "";
  records.push({ label, atMs: Date.now(), stack });
  if (records.length > USERLAND_LIMITS.closeRecordsMax) records.shift();
}

/** The recorded closes, oldest first. */
export function closeRecords(): readonly CloseRecord[] {
  return [...records];
}

/**
 * Makes `handle.close()` record its caller before closing (the handle keeps its type).
 *
 * @param handle a Deno.FsFile, Deno.Listener, BlockDevice or anything with `close()`
 * @param label what it is, for the log ("ddev /path", "control listener")
 * @returns the same handle
 * @example
 * ```ts
 * import { closeRecords, traceClose } from "./close_trace.ts";
 * const handle = traceClose({ close() {} }, "example");
 * handle.close();
 * if (closeRecords().at(-1)?.label !== "example") throw new Error("recorded");
 * ```
 */
export function traceClose<T extends { close(): unknown }>(handle: T, label: string): T {
  const close = handle.close.bind(handle);
  handle.close = () => {
    recordClose(label);
    return close();
  };
  return handle;
}

/**
 * An error's cause chain with every stack, then the close records: what the daemon logs when
 * its engine turns read-only.
 */
export function describeFailure(error: unknown): string {
  const lines: string[] = [];
  let cause: unknown = error;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    if (cause instanceof Error) {
      lines.push(`${depth === 0 ? "error" : "caused by"}: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    } else {
      lines.push(`${depth === 0 ? "error" : "caused by"}: ${String(cause)}`);
      break;
    }
  }
  const closes = closeRecords();
  lines.push(`handles closed in this process so far: ${closes.length}`);
  for (const record of closes) {
    lines.push(
      `close of ${record.label} at ${new Date(record.atMs).toISOString()}: ${record.stack}`,
    );
  }
  return lines.join("\n");
}
