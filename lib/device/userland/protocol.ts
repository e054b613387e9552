/**
 * The control protocol of a userland WalB device: JSON lines over the unix socket
 * `<run dir>/NAME`. A client sends one request line `{"op": OP, ...arguments}` and reads one
 * response line, `{"ok": true, "value": ...}` or `{"ok": false, "code": CODE, "operation":
 * ..., "detail": ...}`; it may send further requests on the same connection. u64 values
 * (lsids, sizes) travel as decimal strings. Pure: no I/O.
 *
 * | op | arguments | value |
 * |---|---|---|
 * | info | — | {@link DaemonInfo} |
 * | lsids | — | the sysfs `lsids` text |
 * | wait-permanent | afterLsid, timeoutMs | true when new log, false on timeout |
 * | set-oldest-lsid | lsid | null |
 * | take-checkpoint | — | null |
 * | get-checkpoint-interval | — | ms |
 * | set-checkpoint-interval | intervalMs | null |
 * | log-usage, log-capacity, size-lb | — | u64 string |
 * | is-overflow, is-frozen, is-flush-capable | — | boolean |
 * | freeze | timeoutSec | null |
 * | melt, reset-wal | — | null |
 * | resize | sizeLb | null |
 * | clear-wal | timeoutSec | null |
 * | stop | force | null (sent once the device has stopped cleanly) |
 *
 * @module
 */
import { LimitExceededError, ProtocolError } from "../../errors.ts";
import type { WalbDeviceErrorCode } from "../wdev_error.ts";
import { USERLAND_LIMITS } from "./limits.ts";

/** Every control operation. */
export const CONTROL_OPS = [
  "info",
  "lsids",
  "wait-permanent",
  "set-oldest-lsid",
  "take-checkpoint",
  "get-checkpoint-interval",
  "set-checkpoint-interval",
  "log-usage",
  "log-capacity",
  "size-lb",
  "is-overflow",
  "is-frozen",
  "is-flush-capable",
  "freeze",
  "melt",
  "reset-wal",
  "resize",
  "clear-wal",
  "stop",
] as const;

/** A control operation name. */
export type ControlOp = typeof CONTROL_OPS[number];

/** A request: the op and its arguments (u64 arguments as decimal strings). */
export interface ControlRequest {
  op: ControlOp;
  afterLsid?: string;
  timeoutMs?: number;
  lsid?: string;
  intervalMs?: number;
  timeoutSec?: number;
  sizeLb?: string;
  force?: boolean;
}

/** What `info` returns. */
export interface DaemonInfo {
  name: string;
  pid: number;
  ldevPath: string;
  ddevPath: string;
  nbdPath: string;
  nbdUri: string;
  /** The loopback TCP port of the NBD export, or null. */
  tcpPort: number | null;
  sizeLb: string;
  pbs: number;
  /** Open NBD connections. */
  nbdConnections: number;
}

/** A response line, decoded. */
export type ControlResponse =
  | { ok: true; value: unknown }
  | { ok: false; code: WalbDeviceErrorCode; operation: string; detail: string };

const ERROR_CODES: readonly WalbDeviceErrorCode[] = [
  "EINVAL",
  "EFAULT",
  "EBUSY",
  "ENOSPC",
  "EROFS",
  "ESHUTDOWN",
  "ETIMEDOUT",
  "ENODEV",
  "EEXIST",
  "EIO",
];

/** Encodes one message as a line (JSON plus `\n`). */
export function encodeLine(message: ControlRequest | ControlResponse): Uint8Array {
  const text = JSON.stringify(message) + "\n";
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > USERLAND_LIMITS.controlLineSizeMax) {
    throw new LimitExceededError(
      "control line size",
      USERLAND_LIMITS.controlLineSizeMax,
      bytes.length,
    );
  }
  return bytes;
}

function parseObject(line: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ProtocolError(`Cannot read ${what}: not JSON: ${line.slice(0, 80)}`, {
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`Cannot read ${what}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const U64_TEXT = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Decodes and checks a request line.
 *
 * @throws {ProtocolError} on bad JSON, an unknown op or an argument of the wrong type
 * @example
 * ```ts
 * import { decodeRequest } from "./protocol.ts";
 * const request = decodeRequest('{"op":"set-oldest-lsid","lsid":"18"}');
 * if (request.lsid !== "18") throw new Error("lsid");
 * ```
 */
export function decodeRequest(line: string): ControlRequest {
  const object = parseObject(line, "control request");
  const op = object.op;
  if (typeof op !== "string" || !(CONTROL_OPS as readonly string[]).includes(op)) {
    throw new ProtocolError(`Cannot read control request: unknown op ${JSON.stringify(op)}`);
  }
  const request: ControlRequest = { op: op as ControlOp };
  for (const key of ["afterLsid", "lsid", "sizeLb"] as const) {
    const value = object[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !U64_TEXT.test(value) || BigInt(value) >= 1n << 64n) {
      throw new ProtocolError(`Cannot read control request: ${key} is not a u64 string`);
    }
    request[key] = value;
  }
  for (const key of ["timeoutMs", "intervalMs", "timeoutSec"] as const) {
    const value = object[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new ProtocolError(`Cannot read control request: ${key} is not a count`);
    }
    request[key] = value;
  }
  if (object.force !== undefined) {
    if (typeof object.force !== "boolean") {
      throw new ProtocolError("Cannot read control request: force is not a boolean");
    }
    request.force = object.force;
  }
  return request;
}

/**
 * Decodes a response line.
 *
 * @throws {ProtocolError} on bad JSON or a malformed response
 */
export function decodeResponse(line: string): ControlResponse {
  const object = parseObject(line, "control response");
  if (object.ok === true) return { ok: true, value: object.value ?? null };
  if (object.ok !== false) throw new ProtocolError("Cannot read control response: no ok field");
  const { code, operation, detail } = object;
  if (typeof code !== "string" || !(ERROR_CODES as readonly string[]).includes(code)) {
    throw new ProtocolError(`Cannot read control response: unknown code ${String(code)}`);
  }
  if (typeof operation !== "string" || typeof detail !== "string") {
    throw new ProtocolError("Cannot read control response: operation or detail missing");
  }
  return { ok: false, code: code as WalbDeviceErrorCode, operation, detail };
}

/**
 * Splits off complete lines from a growing text buffer.
 *
 * @returns the lines and the unfinished rest
 * @throws {LimitExceededError} when the rest grows past the line limit
 */
export function takeLines(buffer: string): { lines: string[]; rest: string } {
  const parts = buffer.split("\n");
  const rest = parts.pop() ?? "";
  if (rest.length > USERLAND_LIMITS.controlLineSizeMax) {
    throw new LimitExceededError(
      "control line size",
      USERLAND_LIMITS.controlLineSizeMax,
      rest.length,
    );
  }
  return { lines: parts.filter((line) => line.trim() !== ""), rest };
}
