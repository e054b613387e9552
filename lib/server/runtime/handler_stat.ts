/**
 * Handler statistics (protocol-and-servers.md §2.1.10): served protocols per (name, client),
 * average latency per protocol of successful handlers, served `get` targets per (target,
 * client). `get handler-stat` returns the lines and resets.
 *
 * @module
 */

/** Statistics of one server. */
export class HandlerStats {
  #protocolCounts = new Map<string, number>();
  #latency = new Map<string, { totalMs: number; count: number }>();
  #getCounts = new Map<string, number>();

  /** Counts one served protocol; `latencyMs` only for a successful handler. */
  recordProtocol(protocol: string, clientId: string, latencyMs?: number): void {
    const key = `${protocol}\t${clientId}`;
    this.#protocolCounts.set(key, (this.#protocolCounts.get(key) ?? 0) + 1);
    if (latencyMs === undefined) return;
    const entry = this.#latency.get(protocol) ?? { totalMs: 0, count: 0 };
    entry.totalMs += latencyMs;
    entry.count++;
    this.#latency.set(protocol, entry);
  }

  /** Counts one served `get` target. */
  recordGet(target: string, clientId: string): void {
    const key = `${target}\t${clientId}`;
    this.#getCounts.set(key, (this.#getCounts.get(key) ?? 0) + 1);
  }

  /**
   * The `get handler-stat` lines, then resets everything.
   *
   * @example
   * ```ts
   * import { HandlerStats } from "./handler_stat.ts";
   * const stats = new HandlerStats();
   * stats.recordProtocol("get", "ctl", 1500);
   * stats.recordGet("state", "ctl");
   * const lines = stats.takeLines();
   * if (!lines.includes("PROTOCOL_LATENCY\tget\t1.500000")) throw new Error(lines.join("|"));
   * if (stats.takeLines().length !== 0) throw new Error("not reset");
   * ```
   */
  takeLines(): string[] {
    const lines: string[] = [];
    for (const [key, count] of this.#protocolCounts) lines.push(`PROTOCOL_COUNT\t${key}\t${count}`);
    for (const [protocol, { totalMs, count }] of this.#latency) {
      lines.push(`PROTOCOL_LATENCY\t${protocol}\t${(totalMs / count / 1000).toFixed(6)}`);
    }
    for (const [key, count] of this.#getCounts) lines.push(`GET_COUNT\t${key}\t${count}`);
    this.#protocolCounts.clear();
    this.#latency.clear();
    this.#getCounts.clear();
    return lines;
  }
}
