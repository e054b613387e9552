/**
 * `get` (protocol-and-servers.md §1.9.3, table 3.4): the value type of every target, the
 * client exchange and the server dispatch over a role's target table.
 *
 * @module
 */
import { assert, UsageError } from "../errors.ts";
import { RequestError } from "./errors.ts";
import type { Packet } from "./packet.ts";
import {
  receiveStringVector,
  receiveValueReply,
  sendErrorReply,
  sendStringVector,
  sendValueReply,
  type TypedValue,
  type ValueOf,
  type ValueType,
} from "./reply.ts";

/** Value type of every `get` target as walbc reads it (table 3.4). */
export const GET_TARGET_TYPES: Readonly<Record<string, ValueType>> = {
  "state": "string",
  "host-type": "string",
  "vol": "lines",
  "pid": "size",
  "latest-snap": "lines",
  "handler-stat": "lines",
  "is-overflow": "size",
  "log-usage": "lines",
  "uuid": "string",
  "ts-delta": "lines",
  "is-wdiff-send-error": "size",
  "proxy-diff": "lines",
  "num-action": "size",
  "diff": "lines",
  "applicable-diff": "lines",
  "total-diff-size": "size",
  "num-diff": "size",
  "exists-diff": "size",
  "exists-base-image": "size",
  "restored": "lines",
  "restored-path": "string",
  "cold": "lines",
  "restorable": "lines",
  "archive-uuid": "string",
  "base": "string",
  "base-all": "lines",
  "vol-size": "size",
  "progress": "size",
  "volume-group": "string",
  "thinpool": "string",
  "all-actions": "lines",
  "meta-snap": "string",
  "meta-state": "string",
};

/**
 * The value type of `target`.
 *
 * @throws {UsageError} for a target walbc does not know
 */
export function getTargetType(target: string): ValueType {
  const type = Object.hasOwn(GET_TARGET_TYPES, target) ? GET_TARGET_TYPES[target] : undefined;
  if (type === undefined) throw new UsageError(`get:no such target:${target}`);
  return type;
}

/**
 * Client side after the negotiation of protocol `get`: sends `[target, args...]`, reads
 * `"ok"`, the value of the target's type and the Ack. The caller closes the connection.
 *
 * @throws {UsageError} for an empty/unknown target or an empty parameter (nothing sent)
 * @throws {RemoteError} when the server answers with an error text
 */
export async function runGetClient(
  packet: Packet,
  params: readonly string[],
): Promise<TypedValue> {
  const target = params[0];
  if (target === undefined) throw new UsageError("get:no target specified");
  const type = getTargetType(target);
  await sendStringVector(packet, params);
  const value = await receiveValueReply(packet, type, "c2xGetClient");
  return { type, value } as TypedValue;
}

/** One target of a role: computes the value from the arguments after the target name. */
export type GetHandler = (args: string[]) => Promise<bigint | string | string[]>;

/** Outcome of one served `get`. */
export interface GetOutcome {
  /** The target name, or undefined when none was given. */
  target: string | undefined;
  /** The error text sent instead of a value, if any. */
  error?: string;
}

/**
 * Server side after the negotiation: RECVVEC(0), then the target's value as P-VALUE, or an
 * error text in place of `"ok"` (then a Fin close either way).
 *
 * @param targets this role's targets; each must be in {@link GET_TARGET_TYPES}
 * @throws the handler's error after sending its text, unless it is a {@link RequestError}
 */
export async function serveGet(
  packet: Packet,
  targets: ReadonlyMap<string, GetHandler>,
): Promise<GetOutcome> {
  let params: string[];
  try {
    params = await receiveStringVector(packet);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    await sendErrorReply(packet, error.message);
    return { target: undefined, error: error.message };
  }
  const [target, ...args] = params;
  if (target === undefined) {
    const message = "runGetCommandServer:no target specified";
    await sendErrorReply(packet, message);
    return { target, error: message };
  }
  const handler = targets.get(target);
  if (handler === undefined) {
    const message = `runGetCommandServer:no such target:${target}`;
    await sendErrorReply(packet, message);
    return { target, error: message };
  }
  const type = getTargetType(target);
  let value: bigint | string | string[];
  try {
    value = await handler(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await sendErrorReply(packet, message);
    if (error instanceof RequestError) return { target, error: message };
    throw error;
  }
  assert(valueMatches(type, value), `get ${target} handler returns a ${type} value`);
  await sendValueReply(packet, { type, value } as TypedValue);
  return { target };
}

function valueMatches<T extends ValueType>(
  type: T,
  value: unknown,
): value is ValueOf<T> {
  switch (type) {
    case "size":
      return typeof value === "bigint";
    case "string":
      return typeof value === "string";
    default:
      return Array.isArray(value) && value.every((item) => typeof item === "string");
  }
}
