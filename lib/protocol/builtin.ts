/**
 * Built-in commands every role serves (protocol-and-servers.md §1.9.1): `shutdown`, `sleep`
 * and `version`, client and server halves of the exchange after the negotiation.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { UsageError } from "../errors.ts";
import { STATUS } from "./constants.ts";
import type { Packet } from "./packet.ts";
import { expectStatus, finClose, sendAcceptAsync, sendFinalStatus } from "./reply.ts";

// ---- shutdown ----

/**
 * walbc's mapping of `shutdown` params: none or `graceful` → false, `force` → true.
 *
 * @throws {UsageError} on anything else
 */
export function parseShutdownParams(params: readonly string[]): boolean {
  if (params.length === 0) return false;
  if (params.length === 1 && params[0] === "graceful") return false;
  if (params.length === 1 && params[0] === "force") return true;
  throw new UsageError(`shutdown:bad params:${params.join(" ")}`);
}

/** Client: sends isForce and requires `"accept"`. */
export async function runShutdownClient(packet: Packet, isForce: boolean): Promise<void> {
  packet.writeBool(isForce);
  await expectStatus(packet, STATUS.accept, "shutdownClient");
}

/** Server: reads isForce, calls `onShutdown`, replies `"accept"` (Fin). */
export async function serveShutdown(
  packet: Packet,
  onShutdown: (isForce: boolean) => void,
): Promise<boolean> {
  const isForce = await packet.readBool("shutdown isForce");
  onShutdown(isForce);
  await sendAcceptAsync(packet);
  return isForce;
}

// ---- sleep ----

/** Client: sends the seconds (`vu64`) and requires `"ok"` after the server slept. */
export async function runSleepClient(packet: Packet, seconds: bigint): Promise<void> {
  packet.writeU64(seconds);
  await expectStatus(packet, STATUS.ok, "sleepClient");
}

/** Longest sleep the server honours (a hostile `vu64` must not overflow the timer). */
const SLEEP_MS_MAX = 2 ** 31 - 1;

/**
 * Server: reads the seconds, sleeps on `clock` (cut short when `signal` aborts: forced
 * shutdown), then replies `"ok"` (Fin).
 */
export async function serveSleep(
  packet: Packet,
  options: { clock: Clock; signal?: AbortSignal },
): Promise<bigint> {
  const seconds = await packet.readU64("sleep seconds");
  const ms = seconds * 1000n > BigInt(SLEEP_MS_MAX) ? SLEEP_MS_MAX : Number(seconds) * 1000;
  try {
    await options.clock.sleep(ms, options.signal);
  } catch (error) {
    if (options.signal?.aborted !== true) throw error;
  }
  await sendFinalStatus(packet, STATUS.ok);
  return seconds;
}

// ---- version ----

/** Fields of the `version` description. */
export interface VersionInfo {
  /** e.g. "1.0.19". */
  version: string;
  /** `YYYY-MM-DDTHH:MM:SS`. */
  buildDate: string;
  /** Log format version (2 in walb-tools 1.0.19). */
  logVersion?: number;
  /** 40 hex digits; omitted in builds without a commit id. */
  commit?: string;
}

/**
 * The LTSV description sent by `version`.
 *
 * @example
 * ```ts
 * import { formatVersionDescription } from "./builtin.ts";
 * const text = formatVersionDescription({ version: "1.0.19", buildDate: "2018-10-31T00:00:00" });
 * if (text !== "version:1.0.19\tbuild_date:2018-10-31T00:00:00\tlog_version:2") throw new Error();
 * ```
 */
export function formatVersionDescription(info: VersionInfo): string {
  const fields = [
    `version:${info.version}`,
    `build_date:${info.buildDate}`,
    `log_version:${info.logVersion ?? 2}`,
  ];
  if (info.commit !== undefined) fields.push(`commit:${info.commit}`);
  return fields.join("\t");
}

/** Client: reads the description string (no params, no `"ok"`). */
export async function runVersionClient(packet: Packet): Promise<string> {
  return await packet.readString("version description");
}

/** Server: sends the description, Fin close. */
export async function serveVersion(packet: Packet, description: string): Promise<void> {
  packet.writeString(description);
  await finClose(packet);
}
