/**
 * Mutation fuzzing of the server side: valid client streams (handshake then requests) with
 * random bytes flipped, cut or inserted. The server must answer or close: only
 * CorruptDataError ends a run with an error, never AssertionError or TypeError, never a hang,
 * never an allocation past the limits. Seeded: SEED=n replays; WALB_FUZZ_MS runs longer.
 */
import { CorruptDataError } from "../errors.ts";
import { MemorySink, MemorySource } from "../io/stream.ts";
import { assert } from "../testing/assert.ts";
import { MemoryLogger } from "./backend.ts";
import { negotiate } from "./handshake.ts";
import {
  encodeClientFlags,
  encodeInfoRequest,
  encodeOption,
  encodeRequest,
  NBD_CMD_DISC,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
} from "./protocol.ts";
import { NbdReader } from "./reader.ts";
import { MemoryBackend } from "./testing_backends.ts";
import { Transmission } from "./transmission.ts";

/** xorshift32: small, seeded, good enough to pick mutations. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

function validStream(random: () => number): Uint8Array {
  const parts: Uint8Array[] = [
    encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES),
    encodeOption(NBD_OPT_LIST),
    encodeOption(NBD_OPT_INFO, encodeInfoRequest({ name: "", infoTypes: [1, 2, 3] })),
    encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "disk", infoTypes: [3] })),
  ];
  const types = [NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES];
  for (let index = 0; index < 8; index++) {
    const type = types[Math.floor(random() * types.length)]!;
    const length = 512 * Math.floor(random() * 16);
    const offset = 512 * Math.floor(random() * 256);
    const data = type === NBD_CMD_WRITE ? new Uint8Array(length).fill(index) : undefined;
    parts.push(
      encodeRequest({ flags: 0, type, handleHigh: 0, handleLow: index, offset, length }, data),
    );
  }
  parts.push(
    encodeRequest({
      flags: 0,
      type: NBD_CMD_DISC,
      handleHigh: 0,
      handleLow: 99,
      offset: 0,
      length: 0,
    }),
  );
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = Array.from(bytes);
  const count = 1 + Math.floor(random() * 4);
  for (let index = 0; index < count; index++) {
    const at = Math.floor(random() * out.length);
    const choice = random();
    if (choice < 0.6) out[at] = Math.floor(random() * 256);
    else if (choice < 0.7) out[at] = 0xff;
    else if (choice < 0.85) out.splice(at, 1 + Math.floor(random() * 8));
    else out.length = at;
  }
  return Uint8Array.from(out);
}

async function serveOnce(bytes: Uint8Array): Promise<void> {
  const backend = new MemoryBackend(128 * 1024);
  const reader = new NbdReader(new MemorySource(bytes), 4096);
  const sink = new MemorySink();
  try {
    const result = await negotiate(reader, sink, { name: "disk", backend });
    if (result.kind !== "transmission") return;
    const transmission = new Transmission(reader, sink, backend, {
      logger: new MemoryLogger(),
      label: "fuzz",
    });
    await transmission.run();
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
  }
}

const seed = Number(Deno.env.get("SEED") ?? Math.floor(Math.random() * 0x7fffffff));

Deno.test(`server side survives mutated client streams (seed=${seed})`, async () => {
  const budgetMs = Number(Deno.env.get("WALB_FUZZ_MS") ?? 1000);
  const random = prng(seed);
  const start = Date.now();
  let runs = 0;
  while (Date.now() - start < budgetMs) {
    const input = mutate(validStream(random), random);
    try {
      await serveOnce(input);
    } catch (error) {
      throw new Error(`seed=${seed} run ${runs}: ${String(error)}`, { cause: error });
    }
    runs++;
  }
  assert(runs > 0, "at least one run");
});
