/**
 * `status` (protocol-and-servers.md §1.9.2): params `[]` or `[volId]`, reply `"ok"`, the
 * status lines as a `strvec`, Ack (Fin).
 *
 * @module
 */
import { RequestError } from "./errors.ts";
import type { Packet } from "./packet.ts";
import {
  receiveStringVector,
  receiveValueReply,
  sendErrorReply,
  sendStringVector,
  sendValueReply,
} from "./reply.ts";

/**
 * Client side after the negotiation of protocol `status`.
 *
 * @returns the status lines
 * @throws {RemoteError} when the server answers with an error text
 */
export async function runStatusClient(packet: Packet, volId?: string): Promise<string[]> {
  await sendStringVector(packet, volId === undefined ? [] : [volId]);
  return await receiveValueReply(packet, "lines", "c2xGetStrVecClient");
}

/**
 * Server side: RECVVEC(0), then `produce(params)` as the lines, or its error text.
 *
 * @throws the producer's error after sending its text, unless it is a {@link RequestError}
 */
export async function serveStatus(
  packet: Packet,
  produce: (params: string[]) => Promise<string[]>,
): Promise<void> {
  let params: string[];
  try {
    params = await receiveStringVector(packet);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    await sendErrorReply(packet, error.message);
    return;
  }
  let lines: string[];
  try {
    lines = await produce(params);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    await sendErrorReply(packet, error.message);
    if (error instanceof RequestError) return;
    throw error;
  }
  await sendValueReply(packet, { type: "lines", value: lines });
}
