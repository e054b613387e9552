/**
 * Reply idioms (protocol-and-servers.md §1.4.2) and reusable exchange patterns (§1.5):
 * status strings and error texts, the Fin close, the 5-byte Ack, P-SENDVEC / RECVVEC,
 * P-VALUE and P-ACCEPT-ASYNC.
 *
 * @module
 */
import { ProtocolError, UsageError } from "../errors.ts";
import { VU32 } from "../format/serializer/mod.ts";
import { ACK_VALUE, isStatusString, STATUS } from "./constants.ts";
import { RemoteError, RequestError } from "./errors.ts";
import type { Packet } from "./packet.ts";

// ---- status strings and errors ----

/**
 * Makes `message` safe to send as an error text: an error must never read as `"ok"`,
 * `"accept"` or another special status string (§1.6), nor be empty.
 */
export function errorText(message: string): string {
  if (message === "" || isStatusString(message)) return `error:${message}`;
  return message;
}

/** Appends an error text where the peer expects a status string (unflushed). */
export function sendError(packet: Packet, message: string): void {
  packet.writeString(errorText(message));
}

/**
 * Reads a status string and requires `expected`.
 *
 * @param context prefix of the {@link RemoteError} message, e.g. "c2xGetClient"
 * @throws {RemoteError} when another text arrives (the peer's error message)
 */
export async function expectStatus(
  packet: Packet,
  expected: string,
  context: string,
): Promise<void> {
  const status = await packet.readString(`status (${expected} expected)`);
  if (status !== expected) throw new RemoteError(context, status);
}

// ---- Ack ----

/** Appends the Ack (`vu32` 0x626C6177 = `82 77 61 6C 62`). */
export function writeAck(packet: Packet): void {
  packet.write((w) => w.varInt(BigInt(ACK_VALUE), VU32));
}

/**
 * Reads the Ack.
 *
 * @throws {ProtocolError} when another value arrives
 */
export async function readAck(packet: Packet, what = "ack"): Promise<void> {
  const value = await packet.readU32(what);
  if (value !== ACK_VALUE) {
    throw new ProtocolError(
      `Cannot read ${what}: got 0x${value.toString(16)}, expected 0x${ACK_VALUE.toString(16)}`,
    );
  }
}

// ---- closing idioms ----

/**
 * Server "Fin" close: flush, half-close, wait for the peer's EOF, close. The wait is bounded
 * by the connection's timeout.
 *
 * @throws {ProtocolError} when the peer sends a byte instead of closing, or times out
 *   (the original only logs these; the connection is closed either way)
 */
export async function finClose(packet: Packet): Promise<void> {
  try {
    await packet.closeWrite();
    await packet.expectEof("the final reply");
  } finally {
    packet.close();
  }
}

// ---- P-SENDVEC / RECVVEC ----

/**
 * Client side of P-SENDVEC(n, confirm): validates `params` locally (no empty element; exactly
 * `count` elements when `count` is not 0), sends them, and reads the confirmation if any.
 *
 * @throws {UsageError} when `params` fail the local check (nothing is sent)
 * @throws {RemoteError} when the server answers with an error text
 */
export async function sendStringVector(
  packet: Packet,
  params: readonly string[],
  options: { count?: number; confirm?: string; context?: string } = {},
): Promise<void> {
  const count = options.count ?? 0;
  if (count !== 0 && params.length !== count) {
    throw new UsageError(`sendStrVec:bad size:${params.length}:${count}`);
  }
  const emptyIndex = params.indexOf("");
  if (emptyIndex >= 0) throw new UsageError(`sendStrVec:empty string:${emptyIndex}`);
  packet.writeStringVector(params);
  await packet.flush();
  if (options.confirm !== undefined) {
    await expectStatus(packet, options.confirm, options.context ?? "sendStrVec");
  }
}

/**
 * Server side RECVVEC(n): reads a `strvec` and checks it.
 *
 * @throws {RequestError} when the count differs from a non-zero `count` or an element is
 *   empty (its message is the error text to send back)
 */
export async function receiveStringVector(
  packet: Packet,
  options: { count?: number; what?: string } = {},
): Promise<string[]> {
  const count = options.count ?? 0;
  const params = await packet.readStringVector(options.what ?? "params");
  if (count !== 0 && params.length !== count) {
    throw new RequestError(`recvStrVec:bad size:${params.length}:${count}`);
  }
  const emptyIndex = params.indexOf("");
  if (emptyIndex >= 0) throw new RequestError(`recvStrVec:empty string:${emptyIndex}`);
  return params;
}

// ---- P-VALUE ----

/** How a P-VALUE value travels: `vu64`, `str` or `strvec` (table 3.4 Size/String/Lines). */
export type ValueType = "size" | "string" | "lines";

/** A value of one {@link ValueType}. */
export type ValueOf<T extends ValueType> = T extends "size" ? bigint
  : T extends "string" ? string
  : string[];

/** A value with its type. */
export type TypedValue =
  | { type: "size"; value: bigint }
  | { type: "string"; value: string }
  | { type: "lines"; value: string[] };

/** Appends a value of its type (unflushed). */
export function writeValue(packet: Packet, typed: TypedValue): void {
  switch (typed.type) {
    case "size":
      packet.writeU64(typed.value);
      return;
    case "string":
      packet.writeString(typed.value);
      return;
    case "lines":
      packet.writeStringVector(typed.value);
      return;
  }
}

/** Reads a value of `type`. */
export async function readValue<T extends ValueType>(
  packet: Packet,
  type: T,
  what = "value",
): Promise<ValueOf<T>> {
  switch (type) {
    case "size":
      return await packet.readU64(what) as ValueOf<T>;
    case "string":
      return await packet.readString(what) as ValueOf<T>;
    default:
      return await packet.readStringVector(what) as ValueOf<T>;
  }
}

/** Server side of P-VALUE: `"ok"`, the value, Ack, then a Fin close. */
export async function sendValueReply(packet: Packet, typed: TypedValue): Promise<void> {
  packet.writeString(STATUS.ok);
  writeValue(packet, typed);
  writeAck(packet);
  await finClose(packet);
}

/**
 * Client side of P-VALUE after the request: reads `"ok"`, the value and the Ack. The caller
 * closes the connection afterwards.
 *
 * @throws {RemoteError} when the server answers with an error text
 */
export async function receiveValueReply<T extends ValueType>(
  packet: Packet,
  type: T,
  context: string,
): Promise<ValueOf<T>> {
  await expectStatus(packet, STATUS.ok, context);
  const value = await readValue(packet, type);
  await readAck(packet);
  return value;
}

// ---- P-ACCEPT-ASYNC ----

/** Server side of P-ACCEPT-ASYNC: `"accept"` and a Fin close; the work continues after. */
export async function sendAcceptAsync(packet: Packet): Promise<void> {
  packet.writeString(STATUS.accept);
  await finClose(packet);
}

/** Server side of a plain final status (e.g. `"ok"` of `sleep`): the string and a Fin close. */
export async function sendFinalStatus(packet: Packet, status: string): Promise<void> {
  packet.writeString(status);
  await finClose(packet);
}

/** Server side of an error reply in place of a status string, then a Fin close. */
export async function sendErrorReply(packet: Packet, message: string): Promise<void> {
  sendError(packet, message);
  await finClose(packet);
}
