/**
 * The client side of a userland WalB device: {@link controlCall} sends one control request
 * over the unix socket, {@link UserlandWalbDevice} implements the {@link WalbDevice}
 * interface with it (the log is read straight from the ldev, the wldev equivalent of §9
 * item 12).
 *
 * @module
 */
import { realClock } from "../../clock.ts";
import { ProtocolError } from "../../errors.ts";
import type { SuperSector } from "../../format/wlog/super_sector.ts";
import { type LsidSet, parseLsids } from "../kernel/sysfs.ts";
import type { LdevPack, LdevReadStop } from "../ldev_reader.ts";
import type { WalbDevice } from "../wdev.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { readWldevLogpacks, readWldevLogPb, readWldevSuper } from "../wldev.ts";
import {
  type ControlRequest,
  type DaemonInfo,
  decodeResponse,
  encodeLine,
  takeLines,
} from "./protocol.ts";

function isConnectFailure(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset;
}

/**
 * Sends one request to the daemon at `controlPath` and returns the response value.
 *
 * @throws {WalbDeviceError} the daemon's refusal (its code and detail), ENODEV when no
 *   daemon listens there, EIO when the connection breaks before the answer
 */
export async function controlCall(controlPath: string, request: ControlRequest): Promise<unknown> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: controlPath });
  } catch (error) {
    if (!isConnectFailure(error)) throw error;
    throw new WalbDeviceError(
      `${request.op} on ${controlPath}`,
      "ENODEV",
      "no WalB device daemon answers there",
      { cause: error },
    );
  }
  try {
    const bytes = encodeLine(request);
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    for (;;) {
      const size = await conn.read(buffer);
      if (size === null) {
        throw new WalbDeviceError(
          `${request.op} on ${controlPath}`,
          "EIO",
          "the daemon closed the connection before answering",
        );
      }
      const { lines, rest } = takeLines(
        text + decoder.decode(buffer.subarray(0, size), { stream: true }),
      );
      text = rest;
      const line = lines[0];
      if (line === undefined) continue;
      const response = decodeResponse(line);
      if (response.ok) return response.value;
      throw new WalbDeviceError(response.operation, response.code, response.detail);
    }
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe) {
      throw new WalbDeviceError(`${request.op} on ${controlPath}`, "EIO", "connection lost", {
        cause: error,
      });
    }
    throw error;
  } finally {
    closeQuietly(conn);
  }
}

/** Closes a connection that may already be closed. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

/**
 * Asks the daemon at `controlPath` for its info.
 *
 * @returns the info, or undefined when no daemon answers (a stale or missing socket)
 */
export async function queryDaemon(controlPath: string): Promise<DaemonInfo | undefined> {
  try {
    return await controlCall(controlPath, { op: "info" }) as DaemonInfo;
  } catch (error) {
    if (error instanceof WalbDeviceError && (error.code === "ENODEV" || error.code === "EIO")) {
      return undefined;
    }
    throw error;
  }
}

function expect<T>(value: unknown, type: "string" | "number" | "boolean", op: string): T {
  const actual = typeof value;
  if (actual !== type) {
    throw new ProtocolError(`Cannot read ${op} response: expected a ${type}, got ${actual}`);
  }
  return value as T;
}

function expectU64(value: unknown, op: string): bigint {
  const text = expect<string>(value, "string", op);
  if (!/^[0-9]+$/.test(text)) throw new ProtocolError(`Cannot read ${op} response: ${text}`);
  return BigInt(text);
}

/**
 * A userland WalB device reached through its control socket.
 *
 * @example
 * ```ts
 * import { UserlandWalbDevice } from "./client.ts";
 * const device = new UserlandWalbDevice("/nonexistent/walb/vol0");
 * try {
 *   await device.lsids();
 *   throw new Error("answered");
 * } catch (error) {
 *   if (!(error instanceof Error) || !error.message.includes("no WalB device daemon")) throw error;
 * }
 * ```
 */
export class UserlandWalbDevice implements WalbDevice {
  readonly backend = "user" as const;
  readonly path: string;

  constructor(controlPath: string) {
    this.path = controlPath;
  }

  #call(request: ControlRequest): Promise<unknown> {
    return controlCall(this.path, request);
  }

  /** The daemon's info (paths, pid, NBD URI). */
  async info(): Promise<DaemonInfo> {
    return await this.#call({ op: "info" }) as DaemonInfo;
  }

  async name(): Promise<string> {
    return (await this.info()).name;
  }

  async readSuper(): Promise<SuperSector> {
    return await readWldevSuper((await this.info()).ldevPath);
  }

  async *readLogpacks(fromLsid: bigint, endLsid: bigint): AsyncGenerator<LdevPack, LdevReadStop> {
    const ldevPath = (await this.info()).ldevPath;
    return yield* readWldevLogpacks(ldevPath, fromLsid, endLsid);
  }

  async readLogPb(lsid: bigint): Promise<Uint8Array> {
    return await readWldevLogPb((await this.info()).ldevPath, lsid);
  }

  async lsids(): Promise<LsidSet> {
    return parseLsids(expect<string>(await this.#call({ op: "lsids" }), "string", "lsids"));
  }

  async waitForPermanent(afterLsid: bigint, timeoutMs: number): Promise<boolean> {
    const value = await this.#call({
      op: "wait-permanent",
      afterLsid: afterLsid.toString(),
      timeoutMs: Math.max(0, Math.floor(timeoutMs)),
    });
    return expect<boolean>(value, "boolean", "wait-permanent");
  }

  async setOldestLsid(lsid: bigint): Promise<void> {
    await this.#call({ op: "set-oldest-lsid", lsid: lsid.toString() });
  }

  async takeCheckpoint(): Promise<void> {
    await this.#call({ op: "take-checkpoint" });
  }

  async getCheckpointInterval(): Promise<number> {
    const value = await this.#call({ op: "get-checkpoint-interval" });
    return expect<number>(value, "number", "get-checkpoint-interval");
  }

  async setCheckpointInterval(intervalMs: number): Promise<void> {
    await this.#call({ op: "set-checkpoint-interval", intervalMs });
  }

  async logUsage(): Promise<bigint> {
    return expectU64(await this.#call({ op: "log-usage" }), "log-usage");
  }

  async logCapacity(): Promise<bigint> {
    return expectU64(await this.#call({ op: "log-capacity" }), "log-capacity");
  }

  async isOverflow(): Promise<boolean> {
    return expect<boolean>(await this.#call({ op: "is-overflow" }), "boolean", "is-overflow");
  }

  async isFlushCapable(): Promise<boolean> {
    const value = await this.#call({ op: "is-flush-capable" });
    return expect<boolean>(value, "boolean", "is-flush-capable");
  }

  async freeze(timeoutSec: number): Promise<void> {
    await this.#call({ op: "freeze", timeoutSec });
  }

  async melt(): Promise<void> {
    await this.#call({ op: "melt" });
  }

  async isFrozen(): Promise<boolean> {
    return expect<boolean>(await this.#call({ op: "is-frozen" }), "boolean", "is-frozen");
  }

  async resize(sizeLb: bigint): Promise<void> {
    await this.#call({ op: "resize", sizeLb: sizeLb.toString() });
  }

  async resetWal(): Promise<void> {
    await this.#call({ op: "reset-wal" });
  }

  async clearWal(timeoutSec: number): Promise<void> {
    await this.#call({ op: "clear-wal", timeoutSec });
  }

  async sizeLb(): Promise<bigint> {
    return expectU64(await this.#call({ op: "size-lb" }), "size-lb");
  }

  /**
   * Stops the daemon cleanly (delete-wdev) and waits until its control socket is gone.
   *
   * @param force stop even while NBD clients are connected
   * @throws {WalbDeviceError} EBUSY when clients are connected and not forced
   */
  async stopDaemon(force: boolean, timeoutMs = 60_000): Promise<void> {
    await this.#call({ op: "stop", force });
    const deadline = realClock.nowMs() + timeoutMs;
    while (realClock.nowMs() < deadline) {
      try {
        await Deno.lstat(this.path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw error;
      }
      await realClock.sleep(20);
    }
    throw new WalbDeviceError(`delete device ${this.path}`, "ETIMEDOUT", "the daemon did not exit");
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
