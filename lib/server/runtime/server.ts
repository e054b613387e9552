/**
 * The common server runtime (protocol-and-servers.md §2.1): the accept loop with the
 * connection limit `-maxconn`, the protocol handler registry (built-ins `shutdown`, `sleep`,
 * `version` included), per-connection socket timeouts, handler statistics, the foreground
 * limit, and graceful or forced shutdown. Storage, proxy and archive register their handlers
 * on one {@link ServerRuntime}.
 *
 * One request per connection (§1.1). Long operations run inside their connection's handler,
 * occupying a connection slot until they finish, as in the original (§1.4.3).
 *
 * @module
 */
import type { Clock } from "../../clock.ts";
import { assert } from "../../errors.ts";
import type { Listener, Net, NetAddr } from "../../net.ts";
import { formatNetAddr } from "../../net.ts";
import type { Conn } from "../../protocol/conn.ts";
import { serveConnection } from "../../protocol/connection.ts";
import { negotiationRefusal } from "../../protocol/negotiation.ts";
import type { HandlerContext, ProtocolHandler } from "../../protocol/connection.ts";
import { serveShutdown, serveSleep, serveVersion } from "../../protocol/builtin.ts";
import { type GetHandler, serveGet } from "../../protocol/get.ts";
import { serveExec } from "./exec.ts";
import { ForegroundLimiter } from "./foreground.ts";
import { HandlerStats } from "./handler_stat.ts";
import { connectionPrefix, printable, type ServerLogger, type ServerLogLevel } from "./logger.ts";

/** Server roles. */
export type ServerRole = "storage" | "proxy" | "archive";

/** What a role's handler gets for one connection. */
export interface ServerContext extends HandlerContext {
  runtime: ServerRuntime;
  /** The client's id from the negotiation. */
  clientId: string;
  /** Aborted on forced shutdown: long loops check it between bulks. */
  signal: AbortSignal;
  /** Logs with the `[selfId][peerId] ` prefix. */
  log(level: ServerLogLevel, message: string): void;
}

/** A role's protocol handler. */
export type ServerHandler = (context: ServerContext) => Promise<void>;

/** Options of {@link ServerRuntime}. */
export interface ServerRuntimeOptions {
  role: ServerRole;
  serverId: string;
  clock: Clock;
  net: Net;
  logger: ServerLogger;
  /** Where to listen (the original: every address of `-p`). */
  listen: NetAddr;
  /** `-maxconn` (default 10). */
  maxConnections?: number;
  /** `-fg` (default 2). */
  maxForegroundTasks?: number;
  /** Socket timeout of accepted connections in ms (`-to`); 0 with `-ka`. */
  timeoutMs: number;
  /** The `version` LTSV description. */
  versionDescription: string;
  /** `-allow-exec`: serve `exec` by running the program (default: refuse it). */
  allowExec?: boolean;
}

/** Minimum interval between two "exceeds max concurrency" warnings (§2.1.3). */
const CONCURRENCY_WARNING_INTERVAL_MS = 10_000;

/** Process status (§2.1.5). */
export type RunStatus = "running" | "gracefulShutdown" | "forceShutdown";

/**
 * One server process.
 *
 * @example
 * ```ts
 * import { ServerRuntime } from "./server.ts";
 * import { MemoryNet } from "../../testing/net.ts";
 * import { realClock } from "../../clock.ts";
 * import { NULL_LOGGER } from "./logger.ts";
 * const runtime = new ServerRuntime({
 *   role: "archive", serverId: "a0", clock: realClock, net: new MemoryNet(),
 *   logger: NULL_LOGGER, listen: { hostname: "a0", port: 5000 }, timeoutMs: 1000,
 *   versionDescription: "version:1.0.19",
 * });
 * runtime.start();
 * const done = runtime.run();
 * runtime.requestShutdown(false);
 * await done;
 * ```
 */
export class ServerRuntime {
  readonly role: ServerRole;
  readonly serverId: string;
  readonly clock: Clock;
  readonly net: Net;
  readonly logger: ServerLogger;
  readonly maxConnections: number;
  readonly timeoutMs: number;
  readonly foreground: ForegroundLimiter;
  readonly stats = new HandlerStats();
  #options: ServerRuntimeOptions;
  #handlers = new Map<string, ServerHandler>();
  #listener: Listener | undefined;
  #status: RunStatus = "running";
  #force = new AbortController();
  #active = new Set<Promise<void>>();
  #slotFreed: (() => void) | undefined;
  #lastWarningMs = Number.NEGATIVE_INFINITY;
  #suppressedWarnings = 0;
  #shutdownWaiters: (() => void)[] = [];

  constructor(options: ServerRuntimeOptions) {
    this.#options = options;
    this.role = options.role;
    this.serverId = options.serverId;
    this.clock = options.clock;
    this.net = options.net;
    this.logger = options.logger;
    this.maxConnections = options.maxConnections ?? 10;
    this.timeoutMs = options.timeoutMs;
    assert(this.maxConnections >= 1, "maxConnections >= 1");
    this.foreground = new ForegroundLimiter(options.maxForegroundTasks ?? 2);
    this.register("shutdown", async (context) => {
      const isForce = await serveShutdown(context.packet, (force) => this.requestShutdown(force));
      context.log("INFO", `shutdown:${isForce ? "force" : "graceful"}:${context.clientId}`);
    });
    this.register("sleep", async (context) => {
      await serveSleep(context.packet, { clock: this.clock, signal: context.signal });
    });
    this.register("version", async (context) => {
      await serveVersion(context.packet, this.#options.versionDescription);
    });
    this.register("exec", async (context) => {
      await serveExec(context, this.#options.allowExec ?? false);
    });
  }

  /** Registers (or replaces) the handler of `protocolName`. */
  register(protocolName: string, handler: ServerHandler): void {
    this.#handlers.set(protocolName, handler);
  }

  /** Registered protocol names. */
  protocols(): string[] {
    return [...this.#handlers.keys()];
  }

  /** The process status. */
  get status(): RunStatus {
    return this.#status;
  }

  /** Aborted when a forced shutdown is requested. */
  get forceSignal(): AbortSignal {
    return this.#force.signal;
  }

  /** The bound address (after {@link start}). */
  get address(): NetAddr {
    assert(this.#listener !== undefined, "start() first");
    return this.#listener.addr;
  }

  /** Number of connections being served. */
  get activeConnections(): number {
    return this.#active.size;
  }

  /** Logs a record. */
  log(level: ServerLogLevel, message: string): void {
    this.logger.log(level, message);
  }

  /** Binds the listening address. */
  start(): void {
    assert(this.#listener === undefined, "start() twice");
    this.#listener = this.#options.net.listen(this.#options.listen);
  }

  /**
   * Sets the shutdown status: stops accepting; `force` also aborts running long operations.
   * A graceful request after a forced one keeps it forced.
   */
  requestShutdown(force: boolean): void {
    if (force) {
      this.#status = "forceShutdown";
      this.#force.abort(new Error("force shutdown"));
    } else if (this.#status === "running") {
      this.#status = "gracefulShutdown";
    }
    this.#listener?.close();
    for (const wake of this.#shutdownWaiters.splice(0)) wake();
    this.#wakeSlot();
  }

  /** Resolves when a shutdown has been requested. */
  waitForShutdownRequest(): Promise<void> {
    if (this.#status !== "running") return Promise.resolve();
    return new Promise((resolve) => this.#shutdownWaiters.push(resolve));
  }

  /**
   * The accept loop: serves connections until a shutdown is requested, then waits for the
   * handlers still running.
   */
  async run(): Promise<void> {
    const listener = this.#listener;
    assert(listener !== undefined, "start() before run()");
    this.log("INFO", `run:Ready to accept connections`);
    while (this.#status === "running") {
      if (this.#active.size >= this.maxConnections) {
        this.#warnConcurrency();
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
        continue;
      }
      let conn: Conn | null;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#status !== "running") break;
        this.log("ERROR", `run:accept failed:${messageOf(error)}`);
        await this.clock.sleep(100).catch(() => {});
        continue;
      }
      if (conn === null) break;
      if (this.#status !== "running") {
        conn.close();
        break;
      }
      const job: Promise<void> = this.#serve(conn).finally(() => {
        this.#active.delete(job);
        this.#wakeSlot();
      });
      this.#active.add(job);
    }
    listener.close();
    this.log("INFO", `run:Waiting for remaining tasks`);
    while (this.#active.size > 0) await Promise.all([...this.#active]);
    this.log("INFO", `shutdown walb ${this.role} server`);
  }

  #wakeSlot(): void {
    const wake = this.#slotFreed;
    this.#slotFreed = undefined;
    wake?.();
  }

  #warnConcurrency(): void {
    const now = this.clock.nowMs();
    if (now - this.#lastWarningMs < CONCURRENCY_WARNING_INTERVAL_MS) {
      this.#suppressedWarnings++;
      return;
    }
    const suppressed = this.#suppressedWarnings;
    this.#lastWarningMs = now;
    this.#suppressedWarnings = 0;
    this.log(
      "WARNING",
      `MultiThreadedServer:exceeds max concurrency:${this.maxConnections}` +
        (suppressed > 0 ? `:suppressed ${suppressed}` : ""),
    );
  }

  async #serve(conn: Conn): Promise<void> {
    const handlers = new Map<string, ProtocolHandler>();
    let startMs = 0;
    let succeeded = false;
    for (const [name, handler] of this.#handlers) {
      handlers.set(name, async (base) => {
        const clientId = base.request.clientId;
        const prefix = connectionPrefix(this.serverId, clientId);
        startMs = this.clock.nowMs();
        await handler({
          ...base,
          runtime: this,
          clientId,
          signal: this.#force.signal,
          log: (level, message) => this.log(level, prefix + message),
        });
        succeeded = true;
      });
    }
    try {
      const outcome = await serveConnection(conn, {
        serverId: this.serverId,
        clock: this.clock,
        timeoutMs: this.timeoutMs,
        handlers,
      });
      const request = outcome.request;
      if (request !== undefined && outcome.accepted) {
        this.stats.recordProtocol(
          request.protocolName,
          request.clientId,
          succeeded ? this.clock.nowMs() - startMs : undefined,
        );
      }
      if (request !== undefined && !outcome.accepted && outcome.error === undefined) {
        // A refused negotiation (wrong version, unknown protocol) got its error text; the
        // operator sees it too.
        const refusal = negotiationRefusal(request, (name) => handlers.has(name)) ?? "refused";
        const prefix = connectionPrefix(this.serverId, request.clientId);
        this.log("WARNING", `${prefix}${printable(refusal)}`);
      }
      if (outcome.error !== undefined) {
        const prefix = connectionPrefix(this.serverId, request?.clientId ?? "");
        this.log(
          "WARNING",
          `${prefix}${printable(request?.protocolName ?? "negotiation")}:${outcome.error.message}`,
        );
      }
    } catch (error) {
      // A bug in one handler (or an I/O error it did not classify) ends that connection only;
      // the original's handler threads catch everything as well and keep the server alive.
      this.log("ERROR", `run:handler failed:${messageOf(error)}`);
    }
  }

  /**
   * Serves `get` over `targets`, counting each served target for `get handler-stat`.
   */
  async serveGet(context: ServerContext, targets: ReadonlyMap<string, GetHandler>): Promise<void> {
    const outcome = await serveGet(context.packet, targets);
    if (outcome.target !== undefined && outcome.error === undefined) {
      this.stats.recordGet(outcome.target, context.clientId);
    }
  }

  /** `host:port` of the bound address, for logs. */
  describeAddress(): string {
    return formatNetAddr(this.address);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}:${error.message}` : String(error);
}
