/**
 * The variable-length integer encoding of the cybozulib serializer (protocol-and-servers.md
 * §1.2.2, wdiff-and-archive.md §12). The encoding depends on the declared C++ type of the
 * value, so every function takes the {@link VarIntType}.
 *
 * @module
 */
import { assert } from "../../errors.ts";

/** Declared C++ type of a variable-length integer: width and signedness. */
export interface VarIntType {
  /** 32 or 64 bits. */
  readonly width: 32 | 64;
  /** True for int/long/int64_t, false for unsigned/size_t/uint64_t. */
  readonly signed: boolean;
}

/** `uint32_t` / `unsigned`. */
export const VU32: VarIntType = { width: 32, signed: false };
/** `int32_t` / `int`. */
export const VI32: VarIntType = { width: 32, signed: true };
/** `uint64_t` / `size_t` / `time_t` as stored by walb-tools. */
export const VU64: VarIntType = { width: 64, signed: false };
/** `int64_t` / `long long`. */
export const VI64: VarIntType = { width: 64, signed: true };

/** Header bytes: 0x80..0x83 zero-extend 1/2/4/8 bytes, 0x84..0x87 sign-extend them. */
const HEADER_U8 = 0x80;
const HEADER_U16 = 0x81;
const HEADER_U32 = 0x82;
const HEADER_U64 = 0x83;
const HEADER_I8 = 0x84;
const HEADER_I16 = 0x85;
const HEADER_I32 = 0x86;
const HEADER_I64 = 0x87;

/** True if `value` is representable in `type`. */
export function fitsVarIntType(value: bigint, type: VarIntType): boolean {
  const width = BigInt(type.width);
  if (type.signed) return value >= -(1n << (width - 1n)) && value < 1n << (width - 1n);
  return value >= 0n && value < 1n << width;
}

/**
 * True if truncating `value` to `bits` (reinterpreted with `signed`) and converting back to
 * `type` gives `value` again ("N-recoverable" of the spec).
 */
function recoverable(value: bigint, type: VarIntType, bits: number, signed: boolean): boolean {
  const narrowed = signed ? BigInt.asIntN(bits, value) : BigInt.asUintN(bits, value);
  const back = type.signed
    ? BigInt.asIntN(type.width, narrowed)
    : BigInt.asUintN(type.width, narrowed);
  return back === value;
}

function pushLittleEndian(out: number[], value: bigint, byteCount: number): void {
  let rest = BigInt.asUintN(byteCount * 8, value);
  for (let i = 0; i < byteCount; i++) {
    out.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
}

/**
 * Encodes `value` of declared type `type`.
 *
 * @param value the value; must be representable in `type`
 * @param type declared C++ type
 * @returns the 1 to 9 encoded bytes
 * @example
 * ```ts
 * import { encodeVarInt, VU64 } from "./varint.ts";
 * const bytes = encodeVarInt(300n, VU64);
 * if (bytes.join(",") !== "129,44,1") throw new Error("wrong");
 * ```
 */
export function encodeVarInt(value: bigint, type: VarIntType): number[] {
  assert(fitsVarIntType(value, type), `value ${value} does not fit the declared type`);
  const out: number[] = [];
  if (recoverable(value, type, 8, true)) {
    const byte = Number(BigInt.asUintN(8, value));
    if (byte >= HEADER_U8 && byte <= HEADER_I64) out.push(HEADER_I8);
    out.push(byte);
  } else if (value >= 0n && value <= 0xffn) {
    out.push(HEADER_U8, Number(value));
  } else if (recoverable(value, type, 16, false)) {
    out.push(HEADER_U16);
    pushLittleEndian(out, value, 2);
  } else if (recoverable(value, type, 16, true)) {
    out.push(HEADER_I16);
    pushLittleEndian(out, value, 2);
  } else if (recoverable(value, type, 32, false)) {
    out.push(HEADER_U32);
    pushLittleEndian(out, value, 4);
  } else if (recoverable(value, type, 32, true)) {
    out.push(HEADER_I32);
    pushLittleEndian(out, value, 4);
  } else {
    assert(type.width === 64, "a 32-bit value always fits a 4-byte form");
    out.push(HEADER_U64);
    pushLittleEndian(out, value, 8);
  }
  return out;
}

/**
 * Bytes that follow a header byte (0 for a one-byte value). Lets a stream reader learn how
 * many more bytes one integer needs after reading its first byte.
 *
 * @example
 * ```ts
 * import { varIntPayloadSize } from "./varint.ts";
 * if (varIntPayloadSize(0x83) !== 8 || varIntPayloadSize(0x05) !== 0) throw new Error("wrong");
 * ```
 */
export function varIntPayloadSize(header: number): number {
  if (header < HEADER_U8 || header > HEADER_I64) return 0;
  return 1 << (header & 3);
}

/** True if `header` is valid for a target of `width` bits (0x83/0x87 need 64 bits). */
export function varIntHeaderAllowed(header: number, width: 32 | 64): boolean {
  return width === 64 || (header !== HEADER_U64 && header !== HEADER_I64);
}

/**
 * Decodes one integer whose header byte is `header` and whose payload (of
 * {@link varIntPayloadSize} bytes) is `payload`, into declared type `type`.
 *
 * The caller checks {@link varIntHeaderAllowed} first.
 */
export function decodeVarInt(header: number, payload: Uint8Array, type: VarIntType): bigint {
  const size = varIntPayloadSize(header);
  assert(payload.length === size, "payload length matches the header");
  assert(varIntHeaderAllowed(header, type.width), "header allowed for the target width");
  let raw: bigint;
  if (size === 0) {
    raw = BigInt(header >= 0x80 ? header - 0x100 : header);
  } else {
    let unsigned = 0n;
    for (let i = size - 1; i >= 0; i--) unsigned = (unsigned << 8n) | BigInt(payload[i]!);
    raw = header >= HEADER_I8 ? BigInt.asIntN(size * 8, unsigned) : unsigned;
  }
  return type.signed ? BigInt.asIntN(type.width, raw) : BigInt.asUintN(type.width, raw);
}
