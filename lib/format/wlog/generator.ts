/**
 * The random wlog generator of `wlog-gen` (offline-tools.md §3.1), as a pure function of a
 * {@link Mt19937}: the same seed gives the same bytes as the original generator seeded
 * with that value (see shared/vectors/README.md).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import {
  lbToPbCount,
  LOGICAL_BLOCK_SIZE,
  MAX_TOTAL_IO_SIZE_IN_LOGPACK_HEADER,
} from "./constants.ts";
import { maxRecordsInPack } from "./logpack.ts";
import { type Logpack, LogpackBuilder } from "./logpack_builder.ts";
import type { Mt19937 } from "./mt19937.ts";
import type { WlogHeaderInit } from "./wlog_header.ts";

/** Parameters of the generator, already converted to blocks. */
export interface WlogGenParams {
  /** Device size [lb] (≥ 1). */
  devLb: bigint;
  pbs: number;
  /** Normal IO size range [lb], maximum included unless `originalSizes`. */
  minIoLb: number;
  maxIoLb: number;
  /** Discard size range [lb]. */
  minDiscardLb: number;
  maxDiscardLb: number;
  /** Soft pack size bound [pb]. */
  maxPackPb: number;
  padding: boolean;
  discard: boolean;
  allZero: boolean;
  /** Random data instead of "each pb holds its lsid". */
  randomData: boolean;
  /**
   * Draw sizes as the original does, never producing the maximum (a defect, offline-tools.md
   * §8), so that a seed reproduces the original's output byte for byte. Default false.
   */
  originalSizes?: boolean;
}

/** Draws the header fields: 16 uuid bytes (two u64 draws, LE), then the salt. */
export function generateWlogHeader(
  random: Mt19937,
  options: { pbs: number; beginLsid: bigint },
): WlogHeaderInit {
  const uuid = new Uint8Array(16);
  const view = new DataView(uuid.buffer);
  view.setBigUint64(0, random.next64(), true);
  view.setBigUint64(8, random.next64(), true);
  const salt = random.nextU32();
  return { salt, pbs: options.pbs, uuid, beginLsid: options.beginLsid, endLsid: (1n << 64n) - 1n };
}

type Planned = { kind: "normal" | "discard" | "padding"; offset: number; sizeLb: number };

function drawSize(random: Mt19937, min: number, max: number, originalSizes: boolean): number {
  const draw = random.next64();
  if (min === max) return min;
  const span = originalSizes ? max - min : max - min + 1;
  return min + Number(draw % BigInt(span));
}

/** Plans the records of one pack (kinds, offsets, sizes) following the original's rules. */
function planRecords(random: Mt19937, params: WlogGenParams): Planned[] {
  const { pbs } = params;
  const plannedCount = random.nextU32() % maxRecordsInPack(pbs) + 1;
  const planned: Planned[] = [];
  let totalPb = 0;
  let hasPadding = false;
  for (let i = 0; i < plannedCount; i++) {
    const offset = random.next64() % params.devLb;
    const v = random.nextU32() % 100;
    let kind: Planned["kind"] = "normal";
    if (v < 10 && params.padding) kind = "padding";
    else if (v < 30 && params.discard) kind = "discard";
    let sizeLb = kind === "discard"
      ? drawSize(random, params.minDiscardLb, params.maxDiscardLb, params.originalSizes ?? false)
      : drawSize(random, params.minIoLb, params.maxIoLb, params.originalSizes ?? false);
    if (offset + BigInt(sizeLb) > params.devLb) sizeLb = Number(params.devLb - offset);
    // The soft pack bound looks at the drawn size, before a padding becomes empty.
    const drawnPb = lbToPbCount(sizeLb, pbs);
    if (
      totalPb > 0 && plannedCount > 1 && kind !== "discard" &&
      totalPb + drawnPb > params.maxPackPb
    ) {
      break;
    }
    let recordOffset = Number(offset);
    if (kind === "padding") {
      const lbPerPb = pbs / LOGICAL_BLOCK_SIZE;
      sizeLb = v < 5 ? 0 : Math.ceil(sizeLb / lbPerPb) * lbPerPb;
      recordOffset = 0;
    }
    const pb = kind === "discard" ? 0 : lbToPbCount(sizeLb, pbs);
    if (kind !== "discard" && totalPb + pb > MAX_TOTAL_IO_SIZE_IN_LOGPACK_HEADER) break;
    if (kind === "padding") {
      if (hasPadding) break;
      hasPadding = true;
    }
    totalPb += pb;
    planned.push({ kind, offset: recordOffset, sizeLb });
  }
  return planned;
}

/** Fills the data of one record: all zero, random (u64 LE draws), or each pb's lsid. */
function recordData(
  random: Mt19937,
  params: WlogGenParams,
  pbCount: number,
  firstLsid: bigint,
): Uint8Array {
  const data = new Uint8Array(pbCount * params.pbs);
  const view = new DataView(data.buffer);
  if (params.allZero && random.nextU32() % 100 < 10) return data;
  if (params.randomData) {
    for (let i = 0; i < data.length; i += 8) view.setBigUint64(i, random.next64(), true);
  } else {
    for (let i = 0; i < pbCount; i++) {
      view.setBigUint64(i * params.pbs, firstLsid + BigInt(i), true);
    }
  }
  return data;
}

/**
 * Generates one pack at `lsid` (never empty).
 *
 * @example
 * ```ts
 * import { Mt19937 } from "./mt19937.ts";
 * import { generatePack } from "./generator.ts";
 * const pack = generatePack(new Mt19937(1), 0n, 1, {
 *   devLb: 4096n, pbs: 512, minIoLb: 1, maxIoLb: 64, minDiscardLb: 1, maxDiscardLb: 256,
 *   maxPackPb: 32768, padding: true, discard: true, allZero: true, randomData: false,
 * });
 * if (pack.header.nRecords < 1) throw new Error("wrong");
 * ```
 */
export function generatePack(
  random: Mt19937,
  lsid: bigint,
  salt: number,
  params: WlogGenParams,
): Logpack {
  const planned = planRecords(random, params);
  assert(planned.length > 0, "a generated pack has at least one record");
  const builder = new LogpackBuilder({ pbs: params.pbs, salt, lsid });
  let dataLsid = lsid + 1n;
  for (const record of planned) {
    if (record.kind === "discard") {
      assert(builder.addDiscard(record.offset, record.sizeLb), "planned discard fits");
      continue;
    }
    const pbCount = lbToPbCount(record.sizeLb, params.pbs);
    const data = recordData(random, params, pbCount, dataLsid);
    dataLsid += BigInt(pbCount);
    if (record.kind === "padding") {
      assert(builder.addPadding(pbCount, data), "planned padding fits");
    } else {
      const payload = data.subarray(0, record.sizeLb * LOGICAL_BLOCK_SIZE);
      assert(builder.addNormal(record.offset, payload, data), "planned IO fits");
    }
  }
  return builder.seal();
}
