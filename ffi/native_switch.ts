/**
 * The operator's switch for native codec libraries (libsnappy, liblzma, libzstd, zlib through FFI):
 * `WALB_NATIVE_CODECS=0` makes every thread use the embedded codecs instead, e.g. to rule the
 * system libraries out when chasing a problem, or to test the embedded path on a host that has
 * them. FFI must also be allowed.
 *
 * @module
 */

/** Environment variable that switches native codecs off when set to `0`. */
export const NATIVE_CODECS_ENV = "WALB_NATIVE_CODECS";

/** True when FFI is allowed and `WALB_NATIVE_CODECS` is not `0`. */
export function nativeCodecsAllowed(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    if (
      Deno.permissions.querySync({ name: "env", variable: NATIVE_CODECS_ENV }).state !== "granted"
    ) {
      return true;
    }
    return Deno.env.get(NATIVE_CODECS_ENV) !== "0";
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}
