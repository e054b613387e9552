/**
 * The control socket of a userland WalB device: accepts connections on `<run dir>/NAME`,
 * reads JSON request lines (protocol.ts) and answers each from the engine, in order per
 * connection. Refusals become error responses with the engine's errno-style code; the
 * connection stays usable.
 *
 * @module
 */
import { traceClose } from "./close_trace.ts";
import { ProtocolError } from "../../errors.ts";
import type { NbdLogger } from "../../nbd/backend.ts";
import type { WalbEngine } from "../walb/engine.ts";
import { WalbEngineError } from "../walb/errors.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { USERLAND_LIMITS } from "./limits.ts";
import {
  type ControlRequest,
  type ControlResponse,
  type DaemonInfo,
  decodeRequest,
  encodeLine,
  takeLines,
} from "./protocol.ts";

/** What the control server needs from the daemon besides the engine. */
export interface ControlHost {
  engine: WalbEngine;
  info(): DaemonInfo;
  /** Stops the device (the `stop` op); resolves once it stopped cleanly. */
  stopDevice(force: boolean): Promise<void>;
  /** Called after the `stop` response was sent: the daemon may exit now. */
  afterStop(): void;
  logger: NbdLogger;
}

function u64(value: string | undefined, what: string): bigint {
  if (value === undefined) {
    throw new WalbDeviceError(`read control request`, "EINVAL", `${what} is missing`);
  }
  return BigInt(value);
}

function count(value: number | undefined, what: string): number {
  if (value === undefined) {
    throw new WalbDeviceError(`read control request`, "EINVAL", `${what} is missing`);
  }
  return value;
}

/** Runs one request against the engine; returns the response value. */
async function execute(host: ControlHost, request: ControlRequest): Promise<unknown> {
  const engine = host.engine;
  switch (request.op) {
    case "info":
      return host.info();
    case "lsids":
      return engine.lsidsText();
    case "wait-permanent": {
      const timeoutMs = Math.min(
        count(request.timeoutMs, "timeoutMs"),
        USERLAND_LIMITS.waitPermanentMsMax,
      );
      return await engine.waitForPermanent(u64(request.afterLsid, "afterLsid"), timeoutMs);
    }
    case "set-oldest-lsid":
      await engine.setOldestLsid(u64(request.lsid, "lsid"));
      return null;
    case "take-checkpoint":
      await engine.checkpoint();
      return null;
    case "get-checkpoint-interval":
      return engine.getCheckpointInterval();
    case "set-checkpoint-interval":
      engine.setCheckpointInterval(count(request.intervalMs, "intervalMs"));
      return null;
    case "log-usage":
      return engine.logUsage.toString();
    case "log-capacity":
      return engine.logCapacity.toString();
    case "size-lb":
      return engine.deviceSizeLb.toString();
    case "is-overflow":
      return engine.isOverflow;
    case "is-frozen":
      return engine.isFrozen;
    case "is-flush-capable":
      return true;
    case "freeze":
      await engine.freeze(count(request.timeoutSec, "timeoutSec"));
      return null;
    case "melt":
      engine.melt();
      return null;
    case "reset-wal":
      await engine.resetWal();
      return null;
    case "resize":
      await engine.resize(u64(request.sizeLb, "sizeLb"));
      return null;
    case "clear-wal":
      await engine.clearWal(count(request.timeoutSec, "timeoutSec") * 1000);
      return null;
    case "stop":
      await host.stopDevice(request.force ?? false);
      return null;
  }
}

/** The error response for a refusal; other errors are logged and reported as EIO. */
function errorResponse(host: ControlHost, op: string, error: unknown): ControlResponse {
  if (error instanceof WalbEngineError || error instanceof WalbDeviceError) {
    const prefix = `Cannot ${error.operation}: `;
    const detail = error.message.startsWith(prefix)
      ? error.message.slice(prefix.length)
      : error.message;
    return { ok: false, code: error.code, operation: error.operation, detail };
  }
  host.logger.error(`control request ${op} failed`, error);
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, code: "EIO", operation: op, detail };
}

/**
 * Serves the control socket until {@link ControlServer.close}.
 */
export class ControlServer {
  readonly #listener: Deno.UnixListener;
  readonly #host: ControlHost;
  readonly #connections = new Set<Deno.Conn>();
  readonly #accepting: Promise<void>;
  #closed = false;

  private constructor(listener: Deno.UnixListener, host: ControlHost) {
    this.#listener = listener;
    this.#host = host;
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Listens on `path` (a stale socket file there is replaced).
   *
   * @throws {Deno.errors.AddrInUse} when another process serves it
   */
  static async listen(path: string, host: ControlHost): Promise<ControlServer> {
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    const listener = traceClose(
      Deno.listen({ transport: "unix", path }),
      `control listener ${path}`,
    );
    return new ControlServer(listener, host);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof Deno.errors.BadResource) return;
        this.#host.logger.error("control socket accept failed", error);
        return;
      }
      if (this.#connections.size >= USERLAND_LIMITS.controlConnectionsMax) {
        this.#host.logger.warn("control socket: too many connections, closing a new one");
        conn.close();
        continue;
      }
      this.#connections.add(conn);
      void this.#serve(conn).finally(() => {
        this.#connections.delete(conn);
        try {
          conn.close();
        } catch (error) {
          if (!(error instanceof Deno.errors.BadResource)) throw error;
        }
      });
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    try {
      for (;;) {
        const size = await conn.read(buffer);
        if (size === null) return;
        const { lines, rest } = takeLines(
          text + decoder.decode(buffer.subarray(0, size), {
            stream: true,
          }),
        );
        text = rest;
        for (const line of lines) {
          if (!(await this.#answer(conn, line))) return;
        }
      }
    } catch (error) {
      if (
        error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.Interrupted
      ) {
        return;
      }
      this.#host.logger.warn("control connection dropped", error);
    }
  }

  /** Answers one line; false when the connection should close. */
  async #answer(conn: Deno.Conn, line: string): Promise<boolean> {
    let request: ControlRequest;
    try {
      request = decodeRequest(line);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      await writeAll(
        conn,
        encodeLine({
          ok: false,
          code: "EINVAL",
          operation: "read control request",
          detail: error.message,
        }),
      );
      return false;
    }
    let response: ControlResponse;
    try {
      response = { ok: true, value: await execute(this.#host, request) };
    } catch (error) {
      response = errorResponse(this.#host, request.op, error);
    }
    await writeAll(conn, encodeLine(response));
    if (request.op === "stop" && response.ok) {
      this.#host.afterStop();
      return false;
    }
    return true;
  }

  /** Stops accepting and closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource)) throw error;
      }
    }
    await this.#accepting;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}
