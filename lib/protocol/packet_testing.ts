/**
 * Test helpers of the protocol tests: packets over in-memory pipes on a manual clock.
 * Tests only.
 *
 * @module
 */
import { ManualClock } from "../testing/clock.ts";
import { netPipe, type NetPipeOptions, type PipeEnd } from "../testing/net_pipe.ts";
import { toHex } from "../testing/assert.ts";
import { Packet } from "./packet.ts";

/** Timeout used by the protocol tests (walbc's default `-to 10`). */
export const TEST_TIMEOUT_MS = 10_000;

/** Two packets connected by a pipe, on one manual clock. */
export interface PacketPair {
  clock: ManualClock;
  client: Packet;
  server: Packet;
  clientEnd: PipeEnd;
  serverEnd: PipeEnd;
}

/** Makes a connected client/server packet pair. */
export function packetPair(options: NetPipeOptions & { timeoutMs?: number } = {}): PacketPair {
  const clock = new ManualClock();
  const [clientEnd, serverEnd] = netPipe(options);
  const timeoutMs = options.timeoutMs ?? TEST_TIMEOUT_MS;
  return {
    clock,
    clientEnd,
    serverEnd,
    client: new Packet(clientEnd, { clock, timeoutMs }),
    server: new Packet(serverEnd, { clock, timeoutMs }),
  };
}

/** A packet that reads `bytes` and then (if `close`) end of stream; `peer` writes more. */
export async function packetReading(
  bytes: Uint8Array,
  options: { close?: boolean } = {},
): Promise<PacketPair> {
  const pair = packetPair();
  await pair.clientEnd.write(bytes);
  if (options.close ?? true) await pair.clientEnd.closeWrite();
  return pair;
}

/** Hex of the bytes `write` produces on a packet once flushed. */
export async function writtenHex(write: (packet: Packet) => void | Promise<void>): Promise<string> {
  const pair = packetPair();
  await write(pair.client);
  await pair.client.flush();
  return toHex(pair.clientEnd.writtenBytes());
}

/** Bytes from hex text (spaces ignored). */
export function fromHex(text: string): Uint8Array {
  const clean = text.replaceAll(" ", "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lets pending promise reactions run, then reports whether `promise` has settled. */
export async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}
