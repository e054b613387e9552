/**
 * Server side of the fixed newstyle NBD handshake, over byte streams: greeting, client
 * flags, then options until NBD_OPT_GO or NBD_OPT_EXPORT_NAME starts transmission.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { type ByteSink, writeAll } from "../io/stream.ts";
import type { NbdBackend } from "./backend.ts";
import { NBD_LIMITS } from "./limits.ts";
import {
  decodeClientFlags,
  decodeInfoRequest,
  decodeName,
  decodeOptionHeader,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoDescription,
  encodeInfoExport,
  encodeInfoName,
  encodeOptionReply,
  encodeServerEntry,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_READ_ONLY,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_INFO_DESCRIPTION,
  NBD_INFO_NAME,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_TOO_BIG,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_SERVER,
  OPTION_HEADER_SIZE,
} from "./protocol.ts";
import type { NbdReader } from "./reader.ts";

/** The one export a server offers. */
export interface ExportConfig {
  /** Export name; clients asking for "" also get it. */
  name: string;
  /** Sent with NBD_INFO_DESCRIPTION when asked for. */
  description?: string;
  backend: NbdBackend;
}

/** How a handshake ended. */
export type HandshakeResult =
  | { kind: "transmission"; exportName: string }
  | { kind: "closed"; reason: string };

const KNOWN_CLIENT_FLAGS = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES;

/**
 * Transmission flags for a backend: always HAS_FLAGS, SEND_FLUSH and SEND_FUA, and the
 * optional features it supports.
 */
export function transmissionFlagsOf(backend: NbdBackend): number {
  let flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA;
  if (backend.readOnly) flags |= NBD_FLAG_READ_ONLY;
  if (backend.canTrim && !backend.readOnly) flags |= NBD_FLAG_SEND_TRIM;
  if (backend.canWriteZeroes && !backend.readOnly) flags |= NBD_FLAG_SEND_WRITE_ZEROES;
  if (backend.canMultiConn === true) flags |= NBD_FLAG_CAN_MULTI_CONN;
  return flags;
}

function exportMatches(config: ExportConfig, name: string): boolean {
  return name === "" || name === config.name;
}

/** Replies to NBD_OPT_INFO / NBD_OPT_GO; returns true when the export was found. */
function infoReplies(option: number, data: Uint8Array, config: ExportConfig): {
  bytes: Uint8Array[];
  found: boolean;
} {
  let request;
  try {
    request = decodeInfoRequest(data);
  } catch (error) {
    if (error instanceof CorruptDataError || error instanceof LimitExceededError) {
      return { bytes: [encodeOptionReply(option, NBD_REP_ERR_INVALID)], found: false };
    }
    throw error;
  }
  if (!exportMatches(config, request.name)) {
    return { bytes: [encodeOptionReply(option, NBD_REP_ERR_UNKNOWN)], found: false };
  }
  const backend = config.backend;
  const infos = [encodeInfoExport(backend.sizeBytes, transmissionFlagsOf(backend))];
  if (request.infoTypes.includes(NBD_INFO_NAME)) infos.push(encodeInfoName(config.name));
  if (request.infoTypes.includes(NBD_INFO_DESCRIPTION) && config.description !== undefined) {
    infos.push(encodeInfoDescription(config.description));
  }
  // Always sent: the minimum is a hard constraint that the server enforces.
  infos.push(encodeInfoBlockSize(backend.blockSizes));
  const bytes = infos.map((info) => encodeOptionReply(option, NBD_REP_INFO, info));
  bytes.push(encodeOptionReply(option, NBD_REP_ACK));
  return { bytes, found: true };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Runs the server side of the handshake.
 *
 * @param reader the client's bytes
 * @param sink where replies go
 * @returns "transmission" after NBD_OPT_GO or NBD_OPT_EXPORT_NAME, "closed" when the client
 *   aborted, left, or broke the protocol (the caller then closes the connection)
 * @throws {CorruptDataError} when the client's stream ends inside a message
 */
export async function negotiate(
  reader: NbdReader,
  sink: ByteSink,
  config: ExportConfig,
): Promise<HandshakeResult> {
  await writeAll(sink, encodeGreeting(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES));
  const flagBytes = await reader.readExact(4, "NBD client flags");
  if (flagBytes === null) return { kind: "closed", reason: "client left before its flags" };
  const clientFlags = decodeClientFlags(flagBytes);
  if ((clientFlags & ~KNOWN_CLIENT_FLAGS) !== 0) {
    return { kind: "closed", reason: `unknown client flags 0x${clientFlags.toString(16)}` };
  }
  const fixed = (clientFlags & NBD_FLAG_C_FIXED_NEWSTYLE) !== 0;
  const noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0;

  for (let count = 0; count < NBD_LIMITS.optionCountMax; count++) {
    const position = reader.position;
    const headerBytes = await reader.readExact(OPTION_HEADER_SIZE, "NBD option header");
    if (headerBytes === null) return { kind: "closed", reason: "client left during options" };
    let header;
    try {
      header = decodeOptionHeader(headerBytes, position);
    } catch (error) {
      if (error instanceof CorruptDataError) return { kind: "closed", reason: error.message };
      throw error;
    }
    const { option, length } = header;
    if (length > NBD_LIMITS.optionDataSizeMax) {
      if (fixed && option !== NBD_OPT_EXPORT_NAME) {
        await writeAll(sink, encodeOptionReply(option, NBD_REP_ERR_TOO_BIG));
      }
      return {
        kind: "closed",
        reason: `option ${option} data of ${length} bytes is over ${NBD_LIMITS.optionDataSizeMax}`,
      };
    }
    const data = new Uint8Array(length); // length checked against the limit above
    await reader.readInto(data, "NBD option data");
    if (option === NBD_OPT_EXPORT_NAME) {
      let name;
      try {
        name = decodeName(data);
      } catch (error) {
        if (error instanceof CorruptDataError || error instanceof LimitExceededError) {
          return { kind: "closed", reason: error.message };
        }
        throw error;
      }
      if (!exportMatches(config, name)) {
        return { kind: "closed", reason: `unknown export ${JSON.stringify(name)}` };
      }
      const backend = config.backend;
      const flags = transmissionFlagsOf(backend);
      await writeAll(sink, encodeExportNameReply(backend.sizeBytes, flags, { noZeroes }));
      return { kind: "transmission", exportName: config.name };
    }
    if (!fixed) {
      return { kind: "closed", reason: `option ${option} from a client without fixed newstyle` };
    }
    switch (option) {
      case NBD_OPT_ABORT:
        await writeAll(sink, encodeOptionReply(option, NBD_REP_ACK));
        return { kind: "closed", reason: "client aborted" };
      case NBD_OPT_LIST:
        if (length !== 0) {
          await writeAll(sink, encodeOptionReply(option, NBD_REP_ERR_INVALID));
        } else {
          await writeAll(
            sink,
            concat([
              encodeOptionReply(option, NBD_REP_SERVER, encodeServerEntry(config.name)),
              encodeOptionReply(option, NBD_REP_ACK),
            ]),
          );
        }
        break;
      case NBD_OPT_INFO:
      case NBD_OPT_GO: {
        const replies = infoReplies(option, data, config);
        await writeAll(sink, concat(replies.bytes));
        if (option === NBD_OPT_GO && replies.found) {
          return { kind: "transmission", exportName: config.name };
        }
        break;
      }
      default:
        // STARTTLS, STRUCTURED_REPLY, meta contexts, extended headers: not implemented.
        await writeAll(sink, encodeOptionReply(option, NBD_REP_ERR_UNSUP));
    }
  }
  return { kind: "closed", reason: `more than ${NBD_LIMITS.optionCountMax} options` };
}
