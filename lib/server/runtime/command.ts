/**
 * The shape shared by the controller commands of every role (protocol-and-servers.md §1.5):
 * receive the parameter vector, check, answer with a status (or the error text), then run the
 * long part after the reply.
 *
 * @module
 */
import { STATUS } from "../../protocol/constants.ts";
import { RequestError } from "../../protocol/errors.ts";
import {
  receiveStringVector,
  sendAcceptAsync,
  sendErrorReply,
  sendFinalStatus,
} from "../../protocol/reply.ts";
import { checkVolumeId } from "./format.ts";
import type { ServerContext } from "./server.ts";

/** A command body: checks (throwing RequestError), then an optional async continuation. */
export type CommandBody = (params: string[]) => Promise<(() => Promise<void>) | void>;

/**
 * Runs a command: RECVVEC(count), `body`; on success `confirm` (Fin) then the continuation
 * (its errors are only logged, the peer already has its answer); on a RequestError its text.
 *
 * @param server the connection
 * @param name the command, for the log
 * @param options `count`: parameters expected (0 = any); `confirm`: the success status
 * @param body the checks and the continuation
 */
export async function runCommand(
  server: ServerContext,
  name: string,
  options: { count?: number; confirm: string },
  body: CommandBody,
): Promise<void> {
  let continuation: (() => Promise<void>) | void;
  try {
    const params = await receiveStringVector(server.packet, { count: options.count ?? 0 });
    continuation = await body(params);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    server.log("WARNING", error.message);
    await sendErrorReply(server.packet, error.message);
    return;
  }
  if (options.confirm === STATUS.accept) await sendAcceptAsync(server.packet);
  else await sendFinalStatus(server.packet, options.confirm);
  if (continuation === undefined) return;
  try {
    await continuation();
  } catch (error) {
    server.log("ERROR", `${name}:failed:${error instanceof Error ? error.message : error}`);
  }
}

/**
 * The volume named by the first parameter.
 *
 * @throws {RequestError} `{fn}:volId not specified` or a bad volume id
 */
export function volumeOf<V>(
  context: { volume(volId: string): V },
  params: string[],
  fn: string,
): V {
  const volId = params[0];
  if (volId === undefined) throw new RequestError(`${fn}:volId not specified`);
  return context.volume(checkVolumeId(volId, fn));
}
