/**
 * Assembly of a userland WalB device (device-and-wlog.md §5.8): validate the super, check it
 * is writable, decide the name, redo the log from written_lsid, set the lsids and detect
 * overflow. The engine then persists the result with a super sync.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import { LOGICAL_BLOCK_SIZE } from "../../format/wlog/constants.ts";
import { SUPER_SECTOR_OFFSET } from "../../format/wlog/super_sector.ts";
import type { BlockDevice } from "../block/block_device.ts";
import type { EngineInit } from "./engine.ts";
import type { WalbEngineOptions } from "./engine_options.ts";
import { WalbEngineError } from "./errors.ts";
import { checkDeviceName } from "./format.ts";
import { LdevRing, readSuperSector } from "./ldev.ts";
import { readLogpackHeaderAt } from "./log_reader.ts";
import { uniformLsids } from "./lsid_state.ts";
import { redoLog } from "./redo.ts";

/** Smallest ring the engine runs on [pb]: a header and a 1-pb record with its padding. */
export const RING_BUFFER_SIZE_MIN = 3n;

/**
 * Reads the super, redoes the log and returns what the engine starts from.
 *
 * @throws {CorruptDataError} when the super is invalid or the ring does not fit the ldev
 * @throws {WalbEngineError} EINVAL for mismatched pbs, a too small ddev or a bad name
 */
export async function openEngineState(
  ldev: BlockDevice,
  ddev: BlockDevice,
  options: WalbEngineOptions,
): Promise<EngineInit> {
  const operation = "open WalB engine";
  if (ldev.physicalBlockSize !== ddev.physicalBlockSize) {
    throw new WalbEngineError(
      operation,
      "EINVAL",
      `ldev pbs ${ldev.physicalBlockSize} differs from ddev pbs ${ddev.physicalBlockSize}`,
    );
  }
  const sup = await readSuperSector(ldev);
  const ring = new LdevRing(ldev, sup);
  if (sup.ringBufferSize < RING_BUFFER_SIZE_MIN) {
    throw new CorruptDataError(
      "super sector",
      SUPER_SECTOR_OFFSET,
      `ring_buffer_size ${sup.ringBufferSize} is below ${RING_BUFFER_SIZE_MIN}`,
    );
  }
  const ddevLb = BigInt(Math.floor(ddev.sizeBytes / LOGICAL_BLOCK_SIZE));
  if (sup.deviceSize > ddevLb) {
    throw new WalbEngineError(
      operation,
      "EINVAL",
      `device_size ${sup.deviceSize} lb is over the ddev size ${ddevLb} lb`,
    );
  }
  const name = decideName(options, sup.name);
  checkDeviceName(name, operation);
  await checkSuperWritable(ldev, sup.pbs);
  const redo = await redoLog(ring, ddev, {
    salt: sup.salt,
    fromLsid: sup.writtenLsid,
    deviceSizeBytes: Number(sup.deviceSize) * LOGICAL_BLOCK_SIZE,
  });
  options.onEvent?.({ kind: "redo", result: redo });
  const lsids = uniformLsids(redo.endLsid, sup.oldestLsid);
  let overflow = lsids.latest - lsids.oldest > sup.ringBufferSize;
  if (!overflow && lsids.latest > lsids.oldest) {
    const head = await readLogpackHeaderAt(ring, lsids.oldest, sup.salt);
    overflow = "problem" in head;
  }
  return {
    ldev,
    ddev,
    superInit: {
      pbs: sup.pbs,
      metadataSize: sup.metadataSize,
      salt: sup.salt,
      uuid: sup.uuid,
      name,
      ringBufferSize: sup.ringBufferSize,
      oldestLsid: sup.oldestLsid,
      writtenLsid: sup.writtenLsid,
      deviceSize: sup.deviceSize,
    },
    lsids,
    overflow,
  };
}

/** The given name, else the super's, else the fallback (§5.8 step 4). */
function decideName(options: WalbEngineOptions, superName: string): string {
  if (options.name !== undefined && options.name !== "") return options.name;
  if (superName !== "") return superName;
  return options.fallbackName ?? "0";
}

/** Writes super sector 0 back unchanged and reads it again (§5.8 step 2). */
async function checkSuperWritable(ldev: BlockDevice, pbs: number): Promise<void> {
  const block = await ldev.read(SUPER_SECTOR_OFFSET, pbs);
  await ldev.write(SUPER_SECTOR_OFFSET, block);
  await ldev.flush();
  const again = await ldev.read(SUPER_SECTOR_OFFSET, pbs);
  if (!again.every((byte, i) => byte === block[i])) {
    throw new WalbEngineError(
      "open WalB engine",
      "EROFS",
      `super sector of ${ldev.description} did not read back as written`,
    );
  }
}
