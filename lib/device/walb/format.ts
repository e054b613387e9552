/**
 * `format-ldev` (device-and-wlog.md §2.4): write a fresh super sector at byte 4096 and zero
 * the pb at lsid 0, so a stale logpack left from an earlier format can never be taken for
 * the start of the new log.
 *
 * @module
 */
import { LOGICAL_BLOCK_SIZE, UUID_SIZE } from "../../format/wlog/constants.ts";
import { formatLdevSuper, type SuperSector } from "../../format/wlog/super_sector.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { WalbEngineError } from "./errors.ts";
import { LdevRing, readSuperSector, writeSuperSector } from "./ldev.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";

/** Fills `target` with random bytes (default: `crypto.getRandomValues`). */
export type RandomFill = (target: Uint8Array) => void;

/** Options of {@link formatLdev}. */
export interface FormatLdevOptions {
  /** Device name stored in the super (at most 25 characters; default empty). */
  name?: string;
  /** Log checksum salt (default random). */
  salt?: number;
  /** 16-byte uuid (default random). */
  uuid?: Uint8Array;
  /** Source of the random salt and uuid (default `crypto.getRandomValues`). */
  random?: RandomFill;
  /** Discard the whole ldev first, as wdevc does without `-nd` (default false). */
  discard?: boolean;
}

/** The default random source. */
export const cryptoRandom: RandomFill = (target) => {
  crypto.getRandomValues(target);
};

/** A random u32 salt and 16-byte uuid from `random`. */
export function randomSaltAndUuid(random: RandomFill): { salt: number; uuid: Uint8Array } {
  const bytes = new Uint8Array(4 + UUID_SIZE);
  random(bytes);
  const salt = new DataView(bytes.buffer).getUint32(0, true);
  return { salt, uuid: bytes.slice(4) };
}

/** Checks a WalB device name: printable, at most 25 characters. */
export function checkDeviceName(name: string, operation: string): void {
  if (name.length > WALB_ENGINE_LIMITS.nameLengthMax) {
    throw new WalbEngineError(
      operation,
      "EINVAL",
      `name "${name}" is longer than ${WALB_ENGINE_LIMITS.nameLengthMax} characters`,
    );
  }
  if (new TextEncoder().encode(name).includes(0)) {
    throw new WalbEngineError(operation, "EINVAL", "name contains a NUL byte");
  }
}

/**
 * Formats `ldev` for a WalB device over a ddev of `ddev.sizeBytes`: ring size
 * floor(ldev_lb / (pbs/512)) − (4096/pbs + 2), lsids 0, random salt and uuid; then zeroes
 * the pb at lsid 0 and flushes.
 *
 * @param ldev the log device (its pbs is the device's pbs)
 * @param ddev size and pbs of the data device (a BlockDevice fits)
 * @param options name, salt, uuid, random source, discard
 * @returns the super sector as read back
 * @throws {WalbEngineError} EINVAL when the pbs differ, the name is too long, or the ldev is
 *   too small for one ring pb
 * @example
 * ```ts
 * import { MemoryDevice } from "../block/memory_device.ts";
 * import { formatLdev } from "./format.ts";
 * const ldev = new MemoryDevice({ sizeBytes: 1 << 20 });
 * const sup = await formatLdev(ldev, { sizeBytes: 1 << 24, physicalBlockSize: 512 }, { name: "vol0" });
 * if (sup.ringBufferSize !== 2038n) throw new Error(`${sup.ringBufferSize}`);
 * ```
 */
export async function formatLdev(
  ldev: BlockDevice,
  ddev: { readonly sizeBytes: number; readonly physicalBlockSize: number },
  options: FormatLdevOptions = {},
): Promise<SuperSector> {
  const operation = "format ldev";
  const pbs = ldev.physicalBlockSize;
  if (ddev.physicalBlockSize !== pbs) {
    throw new WalbEngineError(
      operation,
      "EINVAL",
      `ldev pbs ${pbs} differs from ddev pbs ${ddev.physicalBlockSize}`,
    );
  }
  const name = options.name ?? "";
  checkDeviceName(name, operation);
  const random = options.random ?? cryptoRandom;
  const generated = randomSaltAndUuid(random);
  let init;
  try {
    init = formatLdevSuper({
      ldevLb: BigInt(Math.floor(ldev.sizeBytes / LOGICAL_BLOCK_SIZE)),
      ddevLb: BigInt(Math.floor(ddev.sizeBytes / LOGICAL_BLOCK_SIZE)),
      pbs,
      salt: options.salt ?? generated.salt,
      uuid: options.uuid ?? generated.uuid,
      name,
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new WalbEngineError(operation, "EINVAL", error.message, { cause: error });
  }
  if (init.uuid.length !== UUID_SIZE) {
    throw new WalbEngineError(operation, "EINVAL", `uuid has ${init.uuid.length} bytes`);
  }
  if (options.discard === true && ldev.sizeBytes > 0) await ldev.discard(0, ldev.sizeBytes);
  await writeSuperSector(ldev, init);
  const ring = new LdevRing(ldev, init);
  await ring.write(0n, new Uint8Array(pbs));
  await ldev.flush();
  return await readSuperSector(ldev);
}
