/**
 * Helpers of the engine's tests (not exported by mod.ts): a seeded generator, formatted
 * memory devices, a device wrapper that can be cut off at a crash, and a reference redo
 * that replays the log from the ldev onto a copy of a ddev image.
 *
 * @module
 */
import type { BlockDevice } from "../block/block_device.ts";
import { BlockIoError, InFlight } from "../block/block_device.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { isDiscardRecord, isNormalRecord } from "../../format/wlog/logpack.ts";
import { formatLdev } from "./format.ts";
import { LdevRing, readSuperSector } from "./ldev.ts";
import { readLogRange } from "./log_reader.ts";

/** The seed of a test run: SEED from the environment, else random. */
export function testSeed(): number {
  const text = Deno.env.get("SEED");
  if (text !== undefined && text !== "") return Number(text) >>> 0;
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** True when WALB_TEST_LONG=1 asks for the long runs. */
export function longRun(): boolean {
  return Deno.env.get("WALB_TEST_LONG") === "1";
}

/** A small seeded generator (mulberry32). */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fills `target` with random bytes. */
  fill(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = this.below(256);
  }
}

/** Bytes stamped with a write id and their own offset, so every write is recognisable. */
export function stampedData(id: number, offsetBytes: number, lengthBytes: number): Uint8Array {
  const data = new Uint8Array(lengthBytes);
  const view = new DataView(data.buffer);
  for (let position = 0; position < lengthBytes; position += 512) {
    view.setUint32(position, id, true);
    view.setUint32(position + 4, (offsetBytes + position) / 512, true);
    data.fill((id * 31 + position / 512) & 0xff, position + 8, position + 512);
  }
  return data;
}

/** A formatted memory ldev and a memory ddev. */
export async function memoryPair(
  options: { ldevBytes: number; ddevBytes: number; pbs?: number; salt?: number },
): Promise<{ ldev: MemoryDevice; ddev: MemoryDevice }> {
  const pbs = options.pbs ?? 512;
  const ldev = new MemoryDevice({ sizeBytes: options.ldevBytes, physicalBlockSize: pbs });
  const ddev = new MemoryDevice({ sizeBytes: options.ddevBytes, physicalBlockSize: pbs });
  await formatLdev(ldev, ddev, {
    name: "test",
    ...(options.salt === undefined ? {} : { salt: options.salt }),
  });
  return { ldev, ddev };
}

/** Copies a whole device into memory. */
export async function snapshotDevice(device: BlockDevice): Promise<Uint8Array> {
  const image = new Uint8Array(device.sizeBytes);
  const chunk = 1 << 20;
  for (let offset = 0; offset < image.length; offset += chunk) {
    const end = Math.min(image.length, offset + chunk);
    await device.readInto(offset, image.subarray(offset, end));
  }
  return image;
}

/** One IO found in the log. */
export interface LoggedIo {
  lsid: bigint;
  offsetBytes: number;
  lengthBytes: number;
  /** null for a discard. */
  data: Uint8Array | null;
}

/**
 * Reads the log on `ldev` from `fromLsid` (default: the super's oldest) up to `limitLsid`
 * with the wlog library and returns its IOs in lsid order, where it stopped and the pack
 * count.
 */
export async function readLoggedIos(
  ldev: BlockDevice,
  range: { fromLsid?: bigint; limitLsid: bigint },
): Promise<{ ios: LoggedIo[]; endLsid: bigint; reason: string; packCount: number }> {
  const sup = await readSuperSector(ldev);
  const ring = new LdevRing(ldev, sup);
  const ios: LoggedIo[] = [];
  let packCount = 0;
  const packs = readLogRange(ring, sup.salt, range.fromLsid ?? sup.oldestLsid, range.limitLsid);
  for (;;) {
    const step = await packs.next();
    if (step.done === true) {
      return { ios, endLsid: step.value.endLsid, reason: step.value.reason, packCount };
    }
    packCount++;
    for (const { record, payload } of step.value.ios) {
      if (!isNormalRecord(record) && !isDiscardRecord(record)) continue;
      ios.push({
        lsid: record.lsid,
        offsetBytes: record.offset * 512,
        lengthBytes: record.ioSize * 512,
        data: isDiscardRecord(record) ? null : payload.slice(),
      });
    }
  }
}

/** Applies logged IOs to an image in order (discards as zeros). */
export function applyLoggedIos(image: Uint8Array, ios: readonly LoggedIo[]): Uint8Array {
  for (const io of ios) {
    if (io.data === null) image.fill(0, io.offsetBytes, io.offsetBytes + io.lengthBytes);
    else image.set(io.data, io.offsetBytes);
  }
  return image;
}

/** First differing byte of two arrays, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

/**
 * Forwards to a device until {@link cut}, then fails every call with EIO (the engine that
 * used it is gone after a crash); {@link drain} waits for calls already forwarded.
 */
export class CuttableDevice implements BlockDevice {
  #inner: BlockDevice;
  #cut = false;
  #inFlight = new InFlight();
  constructor(inner: BlockDevice) {
    this.#inner = inner;
  }
  get description(): string {
    return `cuttable(${this.#inner.description})`;
  }
  get sizeBytes(): number {
    return this.#inner.sizeBytes;
  }
  get physicalBlockSize(): number {
    return this.#inner.physicalBlockSize;
  }
  get alignmentBytes(): number {
    return this.#inner.alignmentBytes;
  }
  get readOnly(): boolean {
    return this.#inner.readOnly;
  }
  /** Fails every later call. */
  cut(): void {
    this.#cut = true;
  }
  /** Resolves once every forwarded call settled. */
  drain(): Promise<void> {
    return this.#inFlight.drain();
  }
  #run<T>(operation: string, task: () => Promise<T>): Promise<T> {
    if (this.#cut) {
      return Promise.reject(new BlockIoError(operation, this.description, "EIO", "cut off"));
    }
    return this.#inFlight.track(task());
  }
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    return this.#run("read", () => this.#inner.read(offsetBytes, lengthBytes));
  }
  readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    return this.#run("read", () => this.#inner.readInto(offsetBytes, target));
  }
  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    return this.#run("write", () => this.#inner.write(offsetBytes, data));
  }
  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run("zero", () => this.#inner.writeZeroes(offsetBytes, lengthBytes));
  }
  discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run("discard", () => this.#inner.discard(offsetBytes, lengthBytes));
  }
  flush(): Promise<void> {
    return this.#run("flush", () => this.#inner.flush());
  }
  close(): Promise<void> {
    this.#cut = true;
    return this.#inFlight.drain();
  }
}
