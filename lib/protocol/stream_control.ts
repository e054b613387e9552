/**
 * StreamControl bytes (protocol-and-servers.md §1.11.2): one `u8` per item of a bulk stream,
 * Next=0, End=1, Error=2, Dummy=3.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { STREAM_CONTROL, type StreamControlValue } from "./constants.ts";
import type { Packet } from "./packet.ts";

const NAMES = ["Next", "End", "Error", "Dummy"] as const;

/** Name of a StreamControl value ("Next", "End", "Error", "Dummy"). */
export function streamControlName(value: StreamControlValue): string {
  return NAMES[value];
}

/** Appends a StreamControl byte (unflushed). */
export function writeStreamControl(packet: Packet, value: StreamControlValue): void {
  packet.writeU8(value);
}

/**
 * Reads a fresh StreamControl byte ("StreamControl2" style).
 *
 * @throws {ProtocolError} when the byte is not 0..3
 */
export async function readStreamControl(
  packet: Packet,
  what = "stream control",
): Promise<StreamControlValue> {
  const offset = packet.position;
  const value = await packet.readU8(what);
  if (value > STREAM_CONTROL.dummy) {
    throw new ProtocolError(`Cannot read ${what} at offset ${offset}: bad value ${value}`);
  }
  return value as StreamControlValue;
}

/**
 * The "StreamControl" reader style (wlog, wdiff and bhash streams): a received byte is
 * remembered until {@link consume} is called, so `isNext()`/`isEnd()` may be asked repeatedly.
 */
export class StreamControlReader {
  readonly #packet: Packet;
  #current: StreamControlValue | undefined;

  constructor(packet: Packet) {
    this.#packet = packet;
  }

  /** The current byte, reading one if none is held. */
  async peek(): Promise<StreamControlValue> {
    this.#current ??= await readStreamControl(this.#packet);
    return this.#current;
  }

  /** Forgets the held byte so the next {@link peek} reads a new one. */
  consume(): void {
    this.#current = undefined;
  }

  async isNext(): Promise<boolean> {
    return (await this.peek()) === STREAM_CONTROL.next;
  }

  async isEnd(): Promise<boolean> {
    return (await this.peek()) === STREAM_CONTROL.end;
  }

  async isError(): Promise<boolean> {
    return (await this.peek()) === STREAM_CONTROL.error;
  }

  async isDummy(): Promise<boolean> {
    return (await this.peek()) === STREAM_CONTROL.dummy;
  }
}
