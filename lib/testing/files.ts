/**
 * File helpers for tests.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * The SHA-1 of a whole file, as lowercase hex (how the vectors' SHA1SUMS and the acceptance
 * cases compare images).
 *
 * @param path the file
 * @returns 40 hex digits
 * @example
 * ```ts
 * import { sha1File } from "./files.ts";
 * const path = await Deno.makeTempFile();
 * const hex = await sha1File(path);
 * await Deno.remove(path);
 * if (hex !== "da39a3ee5e6b4b0d3255bfef95601890afd80709") throw new Error(hex);
 * ```
 */
export async function sha1File(path: string): Promise<string> {
  return createHash("sha1").update(await Deno.readFile(path)).digest("hex");
}
