/**
 * Commands every role serves (protocol-and-servers.md §1.9.1–1.9.4): a generic P-SENDVEC
 * command, typed `get`, `status`, `exec` and the built-ins. The role clients extend this.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { runShutdownClient, runSleepClient, runVersionClient } from "../protocol/builtin.ts";
import { getTargetType } from "../protocol/get.ts";
import type { TypedValue, ValueOf, ValueType } from "../protocol/reply.ts";
import { type RequestOptions, ServerClient } from "./client.ts";
import { runCommandClient, runValueClient } from "./exchanges.ts";

/** Attempts of `get`/`status` beyond the first, by default (walbc `-retry` 2). */
export const DEFAULT_GET_RETRY_COUNT = 2;

/** A client with the commands of every role. */
export class RoleClient extends ServerClient {
  /**
   * Sends a P-SENDVEC command and requires its confirmation.
   *
   * @param count exact parameter count walbc checks (0 = any)
   * @throws {RemoteError} with the server's text when it refuses
   */
  async command(
    name: string,
    params: readonly string[],
    init: { confirm?: "ok" | "accept"; count?: number } & RequestOptions = {},
  ): Promise<void> {
    await this.request(
      name,
      (packet) =>
        runCommandClient(packet, params, {
          confirm: init.confirm ?? "ok",
          count: init.count ?? 0,
          context: name,
        }),
      init,
    );
  }

  /**
   * `get` with the value type of table 3.4, retried by default.
   *
   * @throws {UsageError} for a target walbc does not know (nothing is sent)
   */
  async get(params: readonly string[], options: RequestOptions = {}): Promise<TypedValue> {
    const target = params[0];
    if (target === undefined) throw new UsageError("get:no target specified");
    const type = getTargetType(target);
    return await this.request(
      "get",
      (packet) => runValueClient(packet, params, type, "c2xGetClient"),
      { retryCount: DEFAULT_GET_RETRY_COUNT, ...options },
    );
  }

  /**
   * A typed `get` requiring the type `type`.
   *
   * @throws {UsageError} when the target's type differs
   */
  async getAs<T extends ValueType>(
    type: T,
    target: string,
    args: readonly (string | bigint)[] = [],
    options: RequestOptions = {},
  ): Promise<ValueOf<T>> {
    if (getTargetType(target) !== type) {
      throw new UsageError(`get:${target} is not a ${type} target`);
    }
    const value = await this.get([target, ...args.map(String)], options);
    return value.value as ValueOf<T>;
  }

  /** `get state VOL`. */
  getState(volId: string): Promise<string> {
    return this.getAs("string", "state", [volId]);
  }

  /** `get host-type`. */
  getHostType(): Promise<string> {
    return this.getAs("string", "host-type");
  }

  /** `get vol`: the volume directories. */
  getVolumes(): Promise<string[]> {
    return this.getAs("lines", "vol");
  }

  /** `get pid`. */
  getPid(): Promise<bigint> {
    return this.getAs("size", "pid");
  }

  /** `status [VOL]`: the status lines (retried by default). */
  async status(volId?: string, options: RequestOptions = {}): Promise<string[]> {
    const params = volId === undefined ? [] : [volId];
    const typed = await this.request(
      "status",
      (packet) => runValueClient(packet, params, "lines", "c2xGetStrVecClient"),
      { retryCount: DEFAULT_GET_RETRY_COUNT, ...options },
    );
    return typed.value as string[];
  }

  /** `exec ARGV...`: the remote program's stdout lines. */
  async exec(argv: readonly string[], options: RequestOptions = {}): Promise<string[]> {
    if (argv.length === 0) throw new UsageError("exec:no command specified");
    const typed = await this.request(
      "exec",
      (packet) => runValueClient(packet, argv, "lines", "c2xGetStrVecClient"),
      options,
    );
    return typed.value as string[];
  }

  /** `shutdown graceful|force`. */
  async shutdown(mode: "graceful" | "force" = "graceful"): Promise<void> {
    await this.request("shutdown", (packet) => runShutdownClient(packet, mode === "force"));
  }

  /** `sleep SEC` (a test aid). */
  async sleep(seconds = 1n, options: RequestOptions = {}): Promise<void> {
    await this.request("sleep", (packet) => runSleepClient(packet, seconds), options);
  }

  /** `version`: the LTSV description. */
  async version(): Promise<string> {
    return await this.request("version", (packet) => runVersionClient(packet));
  }
}
