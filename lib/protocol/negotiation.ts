/**
 * The first exchange of every connection (protocol-and-servers.md §1.4.1): the client names
 * itself, the protocol and the version; the server answers with its id and `"ok"` or an
 * error string.
 *
 * @module
 */
import { LIMITS } from "../limits.ts";
import { PROTOCOL_VERSION, STATUS } from "./constants.ts";
import { RemoteError } from "./errors.ts";
import type { Packet } from "./packet.ts";
import { sendError } from "./reply.ts";

/** What a client asks for in the negotiation. */
export interface NegotiationRequest {
  clientId: string;
  protocolName: string;
  version: number;
}

/**
 * Client side: sends id, protocol name and version, then reads the server id and requires
 * `"ok"`.
 *
 * @returns the server's id
 * @throws {RemoteError} with the server's text when it refuses (context "run1stNegotiateAsClient")
 * @throws {ProtocolError} / CorruptDataError / LimitExceededError when the reply is malformed
 */
export async function negotiateAsClient(
  packet: Packet,
  request: { clientId: string; protocolName: string },
): Promise<string> {
  writeNegotiationRequest(packet, { ...request, version: PROTOCOL_VERSION });
  await packet.flush();
  const serverId = await packet.readString("server id", LIMITS.protocolNameSizeMax);
  const status = await packet.readString("negotiation status");
  if (status !== STATUS.ok) throw new RemoteError("run1stNegotiateAsClient", status);
  return serverId;
}

/** Appends the three client values of the negotiation (steps 1–3), unflushed. */
export function writeNegotiationRequest(packet: Packet, request: NegotiationRequest): void {
  packet.writeString(request.clientId).writeString(request.protocolName).writeU32(
    request.version,
  );
}

/**
 * Server side, steps 1–3: reads client id, protocol name and version.
 *
 * @throws {ConnectionClosedError} when the client closes first; other ProtocolError,
 *   CorruptDataError or LimitExceededError when the values are malformed or too long
 */
export async function readNegotiationRequest(packet: Packet): Promise<NegotiationRequest> {
  const clientId = await packet.readString("client id", LIMITS.protocolNameSizeMax);
  const protocolName = await packet.readString("protocol name", LIMITS.protocolNameSizeMax);
  const version = await packet.readU32("protocol version");
  return { clientId, protocolName, version };
}

/**
 * The server's refusal text for a request, or undefined when it is acceptable: version
 * mismatch first, then an unknown protocol name (§1.4.1).
 */
export function negotiationRefusal(
  request: NegotiationRequest,
  isServed: (protocolName: string) => boolean,
): string | undefined {
  if (request.version !== PROTOCOL_VERSION) {
    return `run1stNegotiateAsServer:version differ c/s:${request.version}:${PROTOCOL_VERSION}`;
  }
  if (!isServed(request.protocolName)) {
    return `findServerHandler:bad protocol:${request.protocolName}:${request.clientId}`;
  }
  return undefined;
}

/**
 * Server side, whole negotiation: reads the request, sends the server id, then `"ok"` or the
 * refusal text (flushed).
 *
 * @returns the request, and whether it was accepted (when not, the caller just closes)
 */
export async function negotiateAsServer(
  packet: Packet,
  options: { serverId: string; isServed: (protocolName: string) => boolean },
): Promise<{ request: NegotiationRequest; accepted: boolean }> {
  const request = await readNegotiationRequest(packet);
  packet.writeString(options.serverId);
  const refusal = negotiationRefusal(request, options.isServed);
  if (refusal === undefined) packet.writeString(STATUS.ok);
  else sendError(packet, refusal);
  await packet.flush();
  return { request, accepted: refusal === undefined };
}
