/**
 * NBD wire format (fixed newstyle negotiation, simple replies): constants and the encoding
 * and decoding of every message the server sends or receives. Pure: bytes in, values out.
 *
 * All integers are big-endian. u64 offsets are decoded as numbers without bigint: values past
 * 2^53 lose precision but stay larger than any export size, so range checks remain correct.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { NBD_LIMITS } from "./limits.ts";

/** "NBDMAGIC": first 8 bytes the server sends. */
export const NBD_INIT_MAGIC = 0x4e42444d41474943n;
/** "IHAVEOPT": newstyle magic, also the magic of every client option. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Magic of every option reply. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;
/** Magic of a transmission request. */
export const NBD_REQUEST_MAGIC = 0x25609513;
/** Magic of a simple reply. */
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;

/** Handshake flags (server, u16). */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;
/** Client flags (u32). */
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

/** Transmission flags (u16). */
export const NBD_FLAG_HAS_FLAGS = 1 << 0;
export const NBD_FLAG_READ_ONLY = 1 << 1;
export const NBD_FLAG_SEND_FLUSH = 1 << 2;
export const NBD_FLAG_SEND_FUA = 1 << 3;
export const NBD_FLAG_ROTATIONAL = 1 << 4;
export const NBD_FLAG_SEND_TRIM = 1 << 5;
export const NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
export const NBD_FLAG_SEND_DF = 1 << 7;
export const NBD_FLAG_CAN_MULTI_CONN = 1 << 8;

/** Option types. */
export const NBD_OPT_EXPORT_NAME = 1;
export const NBD_OPT_ABORT = 2;
export const NBD_OPT_LIST = 3;
export const NBD_OPT_STARTTLS = 5;
export const NBD_OPT_INFO = 6;
export const NBD_OPT_GO = 7;
export const NBD_OPT_STRUCTURED_REPLY = 8;
export const NBD_OPT_LIST_META_CONTEXT = 9;
export const NBD_OPT_SET_META_CONTEXT = 10;
export const NBD_OPT_EXTENDED_HEADERS = 11;

/** Option reply types; errors have bit 31 set. */
export const NBD_REP_ACK = 1;
export const NBD_REP_SERVER = 2;
export const NBD_REP_INFO = 3;
const NBD_REP_FLAG_ERROR = 0x80000000;
export const NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR + 1;
export const NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR + 2;
export const NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR + 3;
export const NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR + 4;
export const NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR + 5;
export const NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR + 6;
export const NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR + 7;
export const NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR + 8;
export const NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR + 9;

/** Info types of NBD_REP_INFO (u16). */
export const NBD_INFO_EXPORT = 0;
export const NBD_INFO_NAME = 1;
export const NBD_INFO_DESCRIPTION = 2;
export const NBD_INFO_BLOCK_SIZE = 3;

/** Command types (u16). */
export const NBD_CMD_READ = 0;
export const NBD_CMD_WRITE = 1;
export const NBD_CMD_DISC = 2;
export const NBD_CMD_FLUSH = 3;
export const NBD_CMD_TRIM = 4;
export const NBD_CMD_CACHE = 5;
export const NBD_CMD_WRITE_ZEROES = 6;
export const NBD_CMD_BLOCK_STATUS = 7;

/** Command flags (u16). */
export const NBD_CMD_FLAG_FUA = 1 << 0;
export const NBD_CMD_FLAG_NO_HOLE = 1 << 1;
export const NBD_CMD_FLAG_DF = 1 << 2;
export const NBD_CMD_FLAG_REQ_ONE = 1 << 3;
export const NBD_CMD_FLAG_FAST_ZERO = 1 << 4;

/** Error values of replies (Linux errno numbers, as the protocol fixes them). */
export const NBD_EPERM = 1;
export const NBD_EIO = 5;
export const NBD_ENOMEM = 12;
export const NBD_EINVAL = 22;
export const NBD_ENOSPC = 28;
export const NBD_EOVERFLOW = 75;
export const NBD_ENOTSUP = 95;
export const NBD_ESHUTDOWN = 108;

/** Bytes of the server greeting: NBDMAGIC, IHAVEOPT, handshake flags. */
export const GREETING_SIZE = 18;
/** Bytes of an option header: IHAVEOPT, option, length. */
export const OPTION_HEADER_SIZE = 16;
/** Bytes of an option reply header: magic, option, reply type, length. */
export const OPTION_REPLY_HEADER_SIZE = 20;
/** Bytes of a request header. */
export const REQUEST_HEADER_SIZE = 28;
/** Bytes of a simple reply header. */
export const SIMPLE_REPLY_HEADER_SIZE = 16;
/** Zero padding after the NBD_OPT_EXPORT_NAME reply unless NO_ZEROES was agreed. */
export const EXPORT_NAME_PADDING_SIZE = 124;

const TWO_POW_32 = 0x1_0000_0000;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function setU64(target: DataView, at: number, value: number): void {
  target.setUint32(at, Math.floor(value / TWO_POW_32));
  target.setUint32(at + 4, value >>> 0);
}

function getU64(source: DataView, at: number): number {
  return source.getUint32(at) * TWO_POW_32 + source.getUint32(at + 4);
}

/**
 * Encodes the server greeting.
 *
 * @param handshakeFlags NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES usually
 * @returns 18 bytes
 * @example
 * ```ts
 * import { encodeGreeting, NBD_FLAG_FIXED_NEWSTYLE } from "./protocol.ts";
 * if (encodeGreeting(NBD_FLAG_FIXED_NEWSTYLE).length !== 18) throw new Error("size");
 * ```
 */
export function encodeGreeting(handshakeFlags: number): Uint8Array {
  const bytes = new Uint8Array(GREETING_SIZE);
  const dv = view(bytes);
  dv.setBigUint64(0, NBD_INIT_MAGIC);
  dv.setBigUint64(8, NBD_OPTS_MAGIC);
  dv.setUint16(16, handshakeFlags);
  return bytes;
}

/** Decodes the 4-byte client flags. */
export function decodeClientFlags(bytes: Uint8Array): number {
  if (bytes.length !== 4) {
    throw new CorruptDataError("NBD client flags", 0, `${bytes.length} bytes, expected 4`);
  }
  return view(bytes).getUint32(0);
}

/** Encodes client flags (tests and clients). */
export function encodeClientFlags(flags: number): Uint8Array {
  const bytes = new Uint8Array(4);
  view(bytes).setUint32(0, flags);
  return bytes;
}

/** Header of a client option; its `length` data bytes follow. */
export interface OptionHeader {
  option: number;
  length: number;
}

/**
 * Decodes an option header.
 *
 * @param position stream offset of the header, for error messages
 * @throws {CorruptDataError} on a bad magic
 */
export function decodeOptionHeader(bytes: Uint8Array, position = -1): OptionHeader {
  const dv = view(bytes);
  const magic = dv.getBigUint64(0);
  if (magic !== NBD_OPTS_MAGIC) {
    throw new CorruptDataError(
      "NBD option header",
      position,
      `magic is 0x${magic.toString(16)}, expected 0x${NBD_OPTS_MAGIC.toString(16)}`,
    );
  }
  return { option: dv.getUint32(8), length: dv.getUint32(12) };
}

/** Encodes an option with its data (tests and clients). */
export function encodeOption(option: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(OPTION_HEADER_SIZE + data.length);
  const dv = view(bytes);
  dv.setBigUint64(0, NBD_OPTS_MAGIC);
  dv.setUint32(8, option);
  dv.setUint32(12, data.length);
  bytes.set(data, OPTION_HEADER_SIZE);
  return bytes;
}

/** Encodes an option reply: header plus data. */
export function encodeOptionReply(
  option: number,
  replyType: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const bytes = new Uint8Array(OPTION_REPLY_HEADER_SIZE + data.length);
  const dv = view(bytes);
  dv.setBigUint64(0, NBD_REP_MAGIC);
  dv.setUint32(8, option);
  dv.setUint32(12, replyType);
  dv.setUint32(16, data.length);
  bytes.set(data, OPTION_REPLY_HEADER_SIZE);
  return bytes;
}

/** A decoded option reply (tests and clients). */
export interface OptionReply {
  option: number;
  replyType: number;
  data: Uint8Array;
}

/**
 * Decodes one option reply at the start of `bytes`; `size` is how many bytes it took.
 *
 * @throws {CorruptDataError} on a bad magic or truncated reply
 */
export function decodeOptionReply(bytes: Uint8Array): OptionReply & { size: number } {
  if (bytes.length < OPTION_REPLY_HEADER_SIZE) {
    throw new CorruptDataError("NBD option reply", 0, `only ${bytes.length} bytes`);
  }
  const dv = view(bytes);
  const magic = dv.getBigUint64(0);
  if (magic !== NBD_REP_MAGIC) {
    throw new CorruptDataError("NBD option reply", 0, `magic is 0x${magic.toString(16)}`);
  }
  const length = dv.getUint32(16);
  if (bytes.length < OPTION_REPLY_HEADER_SIZE + length) {
    throw new CorruptDataError("NBD option reply", 0, `data of ${length} bytes is truncated`);
  }
  return {
    option: dv.getUint32(8),
    replyType: dv.getUint32(12),
    data: bytes.slice(OPTION_REPLY_HEADER_SIZE, OPTION_REPLY_HEADER_SIZE + length),
    size: OPTION_REPLY_HEADER_SIZE + length,
  };
}

/** Encodes the data of an NBD_REP_SERVER reply to NBD_OPT_LIST: u32 length, name. */
export function encodeServerEntry(name: string): Uint8Array {
  const nameBytes = textEncoder.encode(name);
  const bytes = new Uint8Array(4 + nameBytes.length);
  view(bytes).setUint32(0, nameBytes.length);
  bytes.set(nameBytes, 4);
  return bytes;
}

/** Data of NBD_REP_INFO / NBD_INFO_EXPORT: u16 type, u64 size, u16 transmission flags. */
export function encodeInfoExport(sizeBytes: number, transmissionFlags: number): Uint8Array {
  const bytes = new Uint8Array(12);
  const dv = view(bytes);
  dv.setUint16(0, NBD_INFO_EXPORT);
  setU64(dv, 2, sizeBytes);
  dv.setUint16(10, transmissionFlags);
  return bytes;
}

function encodeInfoString(infoType: number, text: string): Uint8Array {
  const textBytes = textEncoder.encode(text);
  const bytes = new Uint8Array(2 + textBytes.length);
  view(bytes).setUint16(0, infoType);
  bytes.set(textBytes, 2);
  return bytes;
}

/** Data of NBD_REP_INFO / NBD_INFO_NAME: u16 type, name (no length, no NUL). */
export function encodeInfoName(name: string): Uint8Array {
  return encodeInfoString(NBD_INFO_NAME, name);
}

/** Data of NBD_REP_INFO / NBD_INFO_DESCRIPTION: u16 type, description. */
export function encodeInfoDescription(description: string): Uint8Array {
  return encodeInfoString(NBD_INFO_DESCRIPTION, description);
}

/** Block size constraints of an export [bytes]. */
export interface BlockSizes {
  /** Smallest request unit; offsets and lengths must be multiples (power of 2, ≤ 64 KiB). */
  minimum: number;
  /** Size that avoids read-modify-write (power of 2, ≥ minimum). */
  preferred: number;
  /** Largest READ/WRITE payload (multiple of minimum). */
  maximum: number;
}

/** Data of NBD_REP_INFO / NBD_INFO_BLOCK_SIZE: u16 type, u32 minimum, preferred, maximum. */
export function encodeInfoBlockSize(sizes: BlockSizes): Uint8Array {
  const bytes = new Uint8Array(14);
  const dv = view(bytes);
  dv.setUint16(0, NBD_INFO_BLOCK_SIZE);
  dv.setUint32(2, sizes.minimum);
  dv.setUint32(6, sizes.preferred);
  dv.setUint32(10, sizes.maximum);
  return bytes;
}

/** Decoded data of NBD_REP_INFO (tests and clients). */
export type Info =
  | { type: "export"; sizeBytes: number; transmissionFlags: number }
  | { type: "name"; name: string }
  | { type: "description"; description: string }
  | { type: "block-size"; sizes: BlockSizes }
  | { type: "unknown"; infoType: number };

/**
 * Decodes the data of an NBD_REP_INFO reply.
 *
 * @throws {CorruptDataError} when the data is shorter than its type needs
 */
export function decodeInfo(data: Uint8Array): Info {
  const dv = view(data);
  const need = (size: number) => {
    if (data.length !== size) {
      throw new CorruptDataError("NBD info reply", 0, `${data.length} bytes, expected ${size}`);
    }
  };
  if (data.length < 2) throw new CorruptDataError("NBD info reply", 0, "no info type");
  const infoType = dv.getUint16(0);
  switch (infoType) {
    case NBD_INFO_EXPORT:
      need(12);
      return { type: "export", sizeBytes: getU64(dv, 2), transmissionFlags: dv.getUint16(10) };
    case NBD_INFO_NAME:
      return { type: "name", name: textDecoder.decode(data.subarray(2)) };
    case NBD_INFO_DESCRIPTION:
      return { type: "description", description: textDecoder.decode(data.subarray(2)) };
    case NBD_INFO_BLOCK_SIZE:
      need(14);
      return {
        type: "block-size",
        sizes: { minimum: dv.getUint32(2), preferred: dv.getUint32(6), maximum: dv.getUint32(10) },
      };
    default:
      return { type: "unknown", infoType };
  }
}

/** Data of NBD_OPT_INFO / NBD_OPT_GO: the export name and the info types asked for. */
export interface InfoRequest {
  name: string;
  infoTypes: number[];
}

/**
 * Decodes the data of NBD_OPT_INFO / NBD_OPT_GO: u32 name length, name, u16 count, u16 types.
 *
 * @throws {CorruptDataError} when the lengths do not match the data
 * @throws {LimitExceededError} when the name is longer than the protocol allows
 */
export function decodeInfoRequest(data: Uint8Array): InfoRequest {
  const dv = view(data);
  if (data.length < 6) {
    throw new CorruptDataError("NBD info request", 0, `${data.length} bytes, at least 6 needed`);
  }
  const nameLength = dv.getUint32(0);
  if (nameLength > NBD_LIMITS.stringSizeMax) {
    throw new LimitExceededError("NBD export name length", NBD_LIMITS.stringSizeMax, nameLength);
  }
  if (4 + nameLength + 2 > data.length) {
    throw new CorruptDataError("NBD info request", 0, `name of ${nameLength} bytes overruns data`);
  }
  const name = decodeName(data.subarray(4, 4 + nameLength));
  const count = dv.getUint16(4 + nameLength);
  const rest = data.length - (4 + nameLength + 2);
  if (rest !== 2 * count) {
    throw new CorruptDataError(
      "NBD info request",
      4 + nameLength,
      `${count} info types need ${2 * count} bytes, found ${rest}`,
    );
  }
  const infoTypes: number[] = [];
  for (let index = 0; index < count; index++) {
    infoTypes.push(dv.getUint16(4 + nameLength + 2 + 2 * index));
  }
  return { name, infoTypes };
}

/** Encodes the data of NBD_OPT_INFO / NBD_OPT_GO (tests and clients). */
export function encodeInfoRequest(request: InfoRequest): Uint8Array {
  const nameBytes = textEncoder.encode(request.name);
  const bytes = new Uint8Array(4 + nameBytes.length + 2 + 2 * request.infoTypes.length);
  const dv = view(bytes);
  dv.setUint32(0, nameBytes.length);
  bytes.set(nameBytes, 4);
  dv.setUint16(4 + nameBytes.length, request.infoTypes.length);
  request.infoTypes.forEach((type, index) =>
    dv.setUint16(4 + nameBytes.length + 2 + 2 * index, type)
  );
  return bytes;
}

/**
 * Decodes an export name (NBD_OPT_EXPORT_NAME data, or the name inside INFO/GO).
 *
 * @throws {CorruptDataError} when it is not UTF-8
 * @throws {LimitExceededError} when it is longer than the protocol allows
 */
export function decodeName(bytes: Uint8Array): string {
  if (bytes.length > NBD_LIMITS.stringSizeMax) {
    throw new LimitExceededError("NBD export name length", NBD_LIMITS.stringSizeMax, bytes.length);
  }
  try {
    return textDecoder.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) {
      throw new CorruptDataError("NBD export name", 0, "not UTF-8", { cause: error });
    }
    throw error;
  }
}

/**
 * Encodes the reply to NBD_OPT_EXPORT_NAME: u64 size, u16 transmission flags, then 124 zero
 * bytes unless the client agreed to NO_ZEROES.
 */
export function encodeExportNameReply(
  sizeBytes: number,
  transmissionFlags: number,
  options: { noZeroes: boolean },
): Uint8Array {
  const bytes = new Uint8Array(10 + (options.noZeroes ? 0 : EXPORT_NAME_PADDING_SIZE));
  const dv = view(bytes);
  setU64(dv, 0, sizeBytes);
  dv.setUint16(8, transmissionFlags);
  return bytes;
}

/**
 * A transmission request. `handleHigh`/`handleLow` carry the opaque 64-bit handle without a
 * bigint; `offset` is exact below 2^53 and otherwise larger than any export.
 */
export interface NbdRequest {
  flags: number;
  type: number;
  handleHigh: number;
  handleLow: number;
  offset: number;
  length: number;
}

/**
 * Decodes a 28-byte request header at `at` in `bytes`.
 *
 * @param position stream offset, for error messages
 * @throws {CorruptDataError} on a bad magic
 */
export function decodeRequest(bytes: Uint8Array, at = 0, position = -1): NbdRequest {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, REQUEST_HEADER_SIZE);
  const magic = dv.getUint32(0);
  if (magic !== NBD_REQUEST_MAGIC) {
    throw new CorruptDataError(
      "NBD request",
      position,
      `magic is 0x${magic.toString(16)}, expected 0x${NBD_REQUEST_MAGIC.toString(16)}`,
    );
  }
  return {
    flags: dv.getUint16(4),
    type: dv.getUint16(6),
    handleHigh: dv.getUint32(8),
    handleLow: dv.getUint32(12),
    offset: getU64(dv, 16),
    length: dv.getUint32(24),
  };
}

/** Encodes a request header followed by `data` (tests and clients). */
export function encodeRequest(
  request: NbdRequest,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const bytes = new Uint8Array(REQUEST_HEADER_SIZE + data.length);
  const dv = view(bytes);
  dv.setUint32(0, NBD_REQUEST_MAGIC);
  dv.setUint16(4, request.flags);
  dv.setUint16(6, request.type);
  dv.setUint32(8, request.handleHigh);
  dv.setUint32(12, request.handleLow);
  setU64(dv, 16, request.offset);
  dv.setUint32(24, request.length);
  bytes.set(data, REQUEST_HEADER_SIZE);
  return bytes;
}

/**
 * Writes a simple reply header into `target` at `at` (the data, if any, follows it), so a read
 * reply can be one buffer: header then payload, sent with one write.
 */
export function writeSimpleReplyHeader(
  target: Uint8Array,
  at: number,
  error: number,
  handleHigh: number,
  handleLow: number,
): void {
  const dv = new DataView(target.buffer, target.byteOffset + at, SIMPLE_REPLY_HEADER_SIZE);
  dv.setUint32(0, NBD_SIMPLE_REPLY_MAGIC);
  dv.setUint32(4, error);
  dv.setUint32(8, handleHigh);
  dv.setUint32(12, handleLow);
}

/** Encodes a simple reply header (no data). */
export function encodeSimpleReply(
  error: number,
  handleHigh: number,
  handleLow: number,
): Uint8Array {
  const bytes = new Uint8Array(SIMPLE_REPLY_HEADER_SIZE);
  writeSimpleReplyHeader(bytes, 0, error, handleHigh, handleLow);
  return bytes;
}

/** A decoded simple reply header (tests and clients). */
export interface SimpleReply {
  error: number;
  handleHigh: number;
  handleLow: number;
}

/**
 * Decodes a 16-byte simple reply header.
 *
 * @throws {CorruptDataError} on a bad magic
 */
export function decodeSimpleReply(bytes: Uint8Array, at = 0): SimpleReply {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, SIMPLE_REPLY_HEADER_SIZE);
  const magic = dv.getUint32(0);
  if (magic !== NBD_SIMPLE_REPLY_MAGIC) {
    throw new CorruptDataError("NBD simple reply", at, `magic is 0x${magic.toString(16)}`);
  }
  return { error: dv.getUint32(4), handleHigh: dv.getUint32(8), handleLow: dv.getUint32(12) };
}
