/**
 * `get` with per-role typed targets (protocol-and-servers.md §1.9.3): like `serveGet` of
 * lib/protocol, but each target carries its value type, so a role can serve targets that
 * are not in walbc's table 3.4 (e.g. the archive's `restored-path`).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { RequestError } from "../../protocol/errors.ts";
import {
  receiveStringVector,
  sendErrorReply,
  sendValueReply,
  type TypedValue,
  type ValueType,
} from "../../protocol/reply.ts";
import type { ServerContext } from "./server.ts";

/** One `get` target of a role. */
export interface GetTarget {
  type: ValueType;
  /** Computes the value from the arguments after the target name. */
  handler(args: string[]): Promise<bigint | string | string[]>;
}

/**
 * Server side after the negotiation of `get`: RECVVEC(0), the target's value as P-VALUE or
 * an error text (`runGetCommandServer:no such target:<name>`, the handler's message), Fin.
 * Served targets are counted for `get handler-stat`.
 *
 * @throws the handler's error after sending its text, unless it is a {@link RequestError}
 */
export async function serveTypedGet(
  context: ServerContext,
  targets: ReadonlyMap<string, GetTarget>,
): Promise<void> {
  const packet = context.packet;
  let params: string[];
  try {
    params = await receiveStringVector(packet);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    await sendErrorReply(packet, error.message);
    return;
  }
  const [name, ...args] = params;
  if (name === undefined) {
    await sendErrorReply(packet, "runGetCommandServer:no target specified");
    return;
  }
  const target = targets.get(name);
  if (target === undefined) {
    await sendErrorReply(packet, `runGetCommandServer:no such target:${name}`);
    return;
  }
  let value: bigint | string | string[];
  try {
    value = await target.handler(args);
  } catch (error) {
    await sendErrorReply(packet, error instanceof Error ? error.message : String(error));
    if (error instanceof RequestError) return;
    throw error;
  }
  assert(
    target.type === "size"
      ? typeof value === "bigint"
      : target.type === "string"
      ? typeof value === "string"
      : Array.isArray(value),
    `get ${name} returns a ${target.type}`,
  );
  context.runtime.stats.recordGet(name, context.clientId);
  await sendValueReply(packet, { type: target.type, value } as TypedValue);
}
