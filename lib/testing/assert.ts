/**
 * Minimal test assertions (JSR std is unreachable here), built on node:assert.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Asserts truthiness. */
export function assert(condition: unknown, message?: string): asserts condition {
  nodeAssert.ok(condition, message);
}

/** Asserts that `fn` throws an instance of `errorClass` (optionally with a message part). */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  errorClass: new (...args: any[]) => E,
  messageIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof errorClass)) {
      throw new Error(`expected ${errorClass.name}, got ${String(error)}`, { cause: error });
    }
    if (messageIncludes !== undefined && !error.message.includes(messageIncludes)) {
      throw new Error(`expected message to include "${messageIncludes}": ${error.message}`);
    }
    return error;
  }
  throw new Error(`expected ${errorClass.name} to be thrown`);
}

/** Async version of {@link assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClass: new (...args: any[]) => E,
  messageIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof errorClass)) {
      throw new Error(`expected ${errorClass.name}, got ${String(error)}`, { cause: error });
    }
    if (messageIncludes !== undefined && !error.message.includes(messageIncludes)) {
      throw new Error(`expected message to include "${messageIncludes}": ${error.message}`);
    }
    return error;
  }
  throw new Error(`expected ${errorClass.name} to be rejected`);
}

/** Hex string of bytes (lowercase). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Path of the shared vectors folder (read in place, never copied). */
export const VECTORS_DIR = new URL("../../../shared/vectors/", import.meta.url).pathname;
