/**
 * The harness capabilities of scenarios.md §2.1 for userland WalB devices, as library
 * functions for tests:
 *
 * - **W**: writes through the device's NBD export (offset, length, data or a fill; FUA when
 *   asked) and a whole-device fill standing in for `dd`;
 * - **S**: the sha1 of the device content after a flush barrier;
 * - **L**: the lsids in the kernel's sysfs text, and waiting until the log is empty
 *   (`completed == oldest`, as the original harness's wait_for_log_empty).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Clock, realClock } from "../clock.ts";
import { formatLsids } from "../device/kernel/sysfs.ts";
import type { WalbDevice } from "../device/wdev.ts";
import { type NbdAddress, NbdTestClient } from "./nbd_client.ts";
import type { Prng } from "./random.ts";

/** Chunk of whole-device reads and fills [bytes]: a few NBD requests' worth. */
const CHUNK_BYTES = 1024 * 1024;

/** What one W write puts at `offsetBytes`. */
export type WriteContent =
  | { data: Uint8Array }
  | { lengthBytes: number; fill: number }
  | { lengthBytes: number; random: Prng };

function contentBytes(content: WriteContent): Uint8Array {
  if ("data" in content) return content.data;
  if ("fill" in content) return new Uint8Array(content.lengthBytes).fill(content.fill);
  return content.random.bytes(content.lengthBytes);
}

async function withClient<T>(
  address: NbdAddress,
  body: (client: NbdTestClient) => Promise<T>,
): Promise<T> {
  const client = await NbdTestClient.connect(address);
  try {
    return await body(client);
  } finally {
    await client.disconnect();
  }
}

/**
 * W: writes one IO through the NBD export (split at 1 MiB), then flushes when asked.
 *
 * @param address the NBD socket (`{ unixPath: "<run dir>/NAME.nbd" }`) or TCP address
 * @param offsetBytes multiple of 512
 * @param content data, a byte fill or random bytes, with its length (multiple of 512)
 */
export async function writeThroughNbd(
  address: NbdAddress,
  offsetBytes: number,
  content: WriteContent,
  options: { fua?: boolean; flush?: boolean } = {},
): Promise<void> {
  const data = contentBytes(content);
  await withClient(address, async (client) => {
    for (let done = 0; done < data.length; done += CHUNK_BYTES) {
      const piece = data.subarray(done, Math.min(data.length, done + CHUNK_BYTES));
      await client.write(offsetBytes + done, piece, { fua: options.fua ?? false });
    }
    if (options.flush === true) await client.flush();
  });
}

/**
 * W (whole device, the `dd` of the original harness): fills every byte with `fill` or random
 * bytes from `random`, then flushes.
 *
 * @returns the device size [bytes]
 */
export async function fillDeviceThroughNbd(
  address: NbdAddress,
  content: { fill: number } | { random: Prng },
): Promise<number> {
  return await withClient(address, async (client) => {
    const fixed = "fill" in content ? new Uint8Array(CHUNK_BYTES).fill(content.fill) : undefined;
    for (let offset = 0; offset < client.sizeBytes; offset += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, client.sizeBytes - offset);
      const data = fixed !== undefined
        ? fixed.subarray(0, length)
        : (content as { random: Prng }).random.bytes(length);
      await client.write(offset, data);
    }
    await client.flush();
    return client.sizeBytes;
  });
}

/**
 * S: flushes, then reads the whole device through NBD and returns its sha1 (lowercase hex,
 * as `sha1sum` prints it).
 */
export async function deviceSha1(address: NbdAddress): Promise<string> {
  return await withClient(address, async (client) => {
    await client.flush();
    const hash = createHash("sha1");
    for (let offset = 0; offset < client.sizeBytes; offset += CHUNK_BYTES) {
      hash.update(await client.read(offset, Math.min(CHUNK_BYTES, client.sizeBytes - offset)));
    }
    return hash.digest("hex");
  });
}

/** The sha1 of a file or a range of it (lowercase hex). */
export async function fileSha1(path: string, lengthBytes?: number): Promise<string> {
  const file = await Deno.open(path, { read: true });
  try {
    const hash = createHash("sha1");
    const buffer = new Uint8Array(CHUNK_BYTES);
    let left = lengthBytes ?? Number.MAX_SAFE_INTEGER;
    while (left > 0) {
      const size = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
      if (size === null) break;
      hash.update(buffer.subarray(0, size));
      left -= size;
    }
    return hash.digest("hex");
  } finally {
    file.close();
  }
}

/** L: the lsids as the kernel's sysfs `lsids` text. */
export async function lsidsText(device: WalbDevice): Promise<string> {
  return formatLsids(await device.lsids());
}

/**
 * L: waits until the log is empty (`completed == oldest`: every log was extracted and
 * removed), polling every `pollMs` (default 300, as the original harness).
 *
 * @throws {Error} on timeout, with the last lsids
 */
export async function waitForLogEmpty(
  device: WalbDevice,
  options: { timeoutMs: number; pollMs?: number; clock?: Clock },
): Promise<void> {
  const clock = options.clock ?? realClock;
  const deadline = clock.nowMs() + options.timeoutMs;
  for (;;) {
    const lsids = await device.lsids();
    if (lsids.completed === lsids.oldest) return;
    if (clock.nowMs() >= deadline) {
      throw new Error(
        `Cannot wait for an empty log on ${device.path}: timeout, lsids are ${
          formatLsids(lsids).replaceAll("\n", " ")
        }`,
      );
    }
    await clock.sleep(options.pollMs ?? 300);
  }
}
