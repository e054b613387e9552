/**
 * Image names of the archive (wdiff-and-archive.md §13.2): the LVM LV names, also used as the
 * file names of the file backend. gids are decimal; parsing splits at the last underscore.
 *
 * @module
 */

/** Kinds of archive images. */
export type ImageKind = "base" | "restored" | "restoredTmp" | "cold" | "baseTmp";

/** A parsed image name. */
export interface ImageName {
  kind: ImageKind;
  volId: string;
  /** The gid of restored, cold and temporary images. */
  gid?: bigint;
}

/** `wb_<vol>`: the base image. */
export function baseImageName(volId: string): string {
  return `wb_${volId}`;
}

/** `wr_<vol>_<gid>`: a restored clean snapshot. */
export function restoredImageName(volId: string, gid: bigint): string {
  return `wr_${volId}_${gid}`;
}

/** `wr_<vol>_<gid>_tmp`: a restore in progress. */
export function restoredTmpImageName(volId: string, gid: bigint): string {
  return `wr_${volId}_${gid}_tmp`;
}

/** `wc_<vol>_<gid>`: a cold snapshot (thin pool only). */
export function coldImageName(volId: string, gid: bigint): string {
  return `wc_${volId}_${gid}`;
}

/** `wb_<vol>_<gid>_tmp`: a cold snapshot being turned into the base. */
export function baseTmpImageName(volId: string, gid: bigint): string {
  return `wb_${volId}_${gid}_tmp`;
}

const VOLUME_ID = /^[0-9A-Za-z-]{1,64}$/;
const GID = /^(0|[1-9][0-9]{0,19})$/;

function splitGid(rest: string): { volId: string; gid: bigint } | undefined {
  const index = rest.lastIndexOf("_");
  if (index <= 0) return undefined;
  const volId = rest.slice(0, index);
  const gidText = rest.slice(index + 1);
  if (!VOLUME_ID.test(volId) || !GID.test(gidText)) return undefined;
  const gid = BigInt(gidText);
  if (gid >= 1n << 64n) return undefined;
  return { volId, gid };
}

/**
 * Parses an image name; undefined for names that are not archive images.
 *
 * @example
 * ```ts
 * import { parseImageName } from "./names.ts";
 * const name = parseImageName("wr_vol0_12_tmp");
 * if (name?.kind !== "restoredTmp" || name.volId !== "vol0" || name.gid !== 12n) throw new Error();
 * ```
 */
export function parseImageName(name: string): ImageName | undefined {
  const prefix = name.slice(0, 3);
  let rest = name.slice(3);
  const isTmp = rest.endsWith("_tmp");
  if (isTmp) rest = rest.slice(0, -4);
  if (prefix === "wb_" && !isTmp) {
    return VOLUME_ID.test(rest) ? { kind: "base", volId: rest } : undefined;
  }
  const parsed = splitGid(rest);
  if (parsed === undefined) return undefined;
  if (prefix === "wb_") return { kind: "baseTmp", ...parsed };
  if (prefix === "wr_") return { kind: isTmp ? "restoredTmp" : "restored", ...parsed };
  if (prefix === "wc_" && !isTmp) return { kind: "cold", ...parsed };
  return undefined;
}
