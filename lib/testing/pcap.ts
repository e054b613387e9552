/**
 * A small reader of classic pcap captures for protocol golden tests: Ethernet, Linux cooked
 * (SLL, SLL2), BSD loopback and raw-IP link layers; IPv4 and IPv6; TCP reassembled per
 * stream and direction in sequence order (retransmitted bytes taken once, gaps rejected).
 * Tests only: captures are trusted fixtures, but bad ones still fail with CorruptDataError.
 *
 * @module
 */
import { CorruptDataError } from "../errors.ts";
import { concatBytes } from "./net_pipe.ts";

/** One side of a TCP connection. */
export interface Endpoint {
  /** Dotted IPv4 or colon-separated (uncompressed) IPv6 address. */
  address: string;
  port: number;
}

/** One TCP segment with payload or FIN, in capture order. */
export interface TcpSegment {
  fromClient: boolean;
  /** Offset of the payload in its direction's byte stream. */
  offset: number;
  payload: Uint8Array;
  fin: boolean;
}

/** One reassembled TCP connection. */
export interface TcpStream {
  /** 0-based, in order of the first packet of each connection. */
  index: number;
  /** The side that sent the SYN (else the first packet's sender). */
  client: Endpoint;
  server: Endpoint;
  clientToServer: Uint8Array;
  serverToClient: Uint8Array;
  clientFin: boolean;
  serverFin: boolean;
  segments: TcpSegment[];
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;
const IP_PROTOCOL_TCP = 6;

interface Packet {
  link: Uint8Array;
  offset: number;
}

/** Splits a classic pcap file into its packets' captured bytes. */
export function readPcapPackets(bytes: Uint8Array): { linkType: number; packets: Packet[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) throw new CorruptDataError("pcap header", 0, "file too short");
  const magic = view.getUint32(0, true);
  let little: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) little = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) little = false;
  else throw new CorruptDataError("pcap header", 0, `bad magic 0x${magic.toString(16)}`);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: Packet[] = [];
  let offset = 24;
  while (offset < bytes.length) {
    if (offset + 16 > bytes.length) {
      throw new CorruptDataError("pcap record header", offset, "truncated");
    }
    const capturedSize = view.getUint32(offset + 8, little);
    const start = offset + 16;
    if (start + capturedSize > bytes.length) {
      throw new CorruptDataError("pcap record", offset, `${capturedSize} bytes announced`);
    }
    packets.push({ link: bytes.subarray(start, start + capturedSize), offset });
    offset = start + capturedSize;
  }
  return { linkType, packets };
}

interface IpPacket {
  source: string;
  target: string;
  protocol: number;
  payload: Uint8Array;
}

function ipv4Text(b: Uint8Array): string {
  return Array.from(b).join(".");
}

function ipv6Text(b: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return words.join(":");
}

/** Returns the network-layer bytes and their ethertype, or undefined for other packets. */
function stripLink(linkType: number, frame: Uint8Array): [number, Uint8Array] | undefined {
  const u16 = (i: number) => (frame[i]! << 8) | frame[i + 1]!;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.length < 14) return undefined;
      let type = u16(12);
      let start = 14;
      while ((type === 0x8100 || type === 0x88a8) && frame.length >= start + 4) {
        type = u16(start + 2);
        start += 4;
      }
      return [type, frame.subarray(start)];
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length < 16 ? undefined : [u16(14), frame.subarray(16)];
    case LINKTYPE_LINUX_SLL2:
      return frame.length < 20 ? undefined : [u16(0), frame.subarray(20)];
    case LINKTYPE_NULL: {
      if (frame.length < 4) return undefined;
      const family = frame[0]! | frame[1]! << 8 | frame[2]! << 16 | frame[3]! << 24;
      const swapped = frame[3]! | frame[2]! << 8 | frame[1]! << 16 | frame[0]! << 24;
      const isV4 = family === 2 || swapped === 2;
      return [isV4 ? 0x0800 : 0x86dd, frame.subarray(4)];
    }
    case LINKTYPE_RAW:
      return frame.length < 1 ? undefined : [frame[0]! >> 4 === 4 ? 0x0800 : 0x86dd, frame];
    default:
      throw new CorruptDataError("pcap header", 20, `unsupported link type ${linkType}`);
  }
}

function parseIp(ethertype: number, data: Uint8Array): IpPacket | undefined {
  if (ethertype === 0x0800) {
    if (data.length < 20) return undefined;
    const headerSize = (data[0]! & 0x0f) * 4;
    const totalSize = (data[2]! << 8) | data[3]!;
    const fragment = ((data[6]! << 8) | data[7]!) & 0x3fff;
    if (fragment !== 0) throw new CorruptDataError("IPv4 packet", 0, "fragments unsupported");
    const end = Math.min(data.length, totalSize === 0 ? data.length : totalSize);
    return {
      source: ipv4Text(data.subarray(12, 16)),
      target: ipv4Text(data.subarray(16, 20)),
      protocol: data[9]!,
      payload: data.subarray(headerSize, end),
    };
  }
  if (ethertype === 0x86dd) {
    if (data.length < 40) return undefined;
    const payloadSize = (data[4]! << 8) | data[5]!;
    let next = data[6]!;
    let start = 40;
    // Skip hop-by-hop, routing and destination-options extension headers.
    while ((next === 0 || next === 43 || next === 60) && data.length >= start + 8) {
      next = data[start]!;
      start += (data[start + 1]! + 1) * 8;
    }
    return {
      source: ipv6Text(data.subarray(8, 24)),
      target: ipv6Text(data.subarray(24, 40)),
      protocol: next,
      payload: data.subarray(start, Math.min(data.length, 40 + payloadSize)),
    };
  }
  return undefined;
}

interface DirectionState {
  initialSeq: number | undefined;
  pieces: Map<number, Uint8Array>;
  fin: boolean;
}

interface StreamState {
  index: number;
  client: Endpoint;
  server: Endpoint;
  directions: [DirectionState, DirectionState];
  segments: TcpSegment[];
  closed: boolean;
}

function keyOf(a: Endpoint, b: Endpoint): string {
  return `${a.address}/${a.port}>${b.address}/${b.port}`;
}

/** Joins a direction's pieces in order, taking overlapping (retransmitted) bytes once. */
function reassemble(state: DirectionState, what: string): Uint8Array {
  const offsets = [...state.pieces.keys()].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let next = 0;
  for (const offset of offsets) {
    const piece = state.pieces.get(offset)!;
    if (offset > next) throw new CorruptDataError(what, next, `gap up to offset ${offset}`);
    if (offset + piece.length > next) {
      parts.push(piece.subarray(next - offset));
      next = offset + piece.length;
    }
  }
  return concatBytes(parts);
}

/**
 * Reads a classic pcap and returns its TCP streams with each direction's payload reassembled.
 *
 * @throws {CorruptDataError} on a malformed capture or a gap in a stream
 */
export function readPcapTcpStreams(bytes: Uint8Array): TcpStream[] {
  const { linkType, packets } = readPcapPackets(bytes);
  const open = new Map<string, StreamState>();
  const all: StreamState[] = [];
  for (const packet of packets) {
    const stripped = stripLink(linkType, packet.link);
    if (stripped === undefined) continue;
    const ip = parseIp(stripped[0], stripped[1]);
    if (ip === undefined || ip.protocol !== IP_PROTOCOL_TCP || ip.payload.length < 20) continue;
    const tcp = ip.payload;
    const tcpView = new DataView(tcp.buffer, tcp.byteOffset, tcp.byteLength);
    const source = { address: ip.source, port: tcpView.getUint16(0) };
    const target = { address: ip.target, port: tcpView.getUint16(2) };
    const seq = tcpView.getUint32(4);
    const headerSize = (tcp[12]! >> 4) * 4;
    const flags = tcp[13]!;
    const fin = (flags & 0x01) !== 0;
    const syn = (flags & 0x02) !== 0;
    const ack = (flags & 0x10) !== 0;
    const payload = tcp.subarray(headerSize);
    const forwardKey = keyOf(source, target);
    const backwardKey = keyOf(target, source);
    let stream = open.get(forwardKey) ?? open.get(backwardKey);
    if (stream !== undefined && stream.closed && syn && !ack) stream = undefined;
    if (stream === undefined) {
      const isServerFirst = syn && ack;
      stream = {
        index: all.length,
        client: isServerFirst ? target : source,
        server: isServerFirst ? source : target,
        directions: [
          { initialSeq: undefined, pieces: new Map(), fin: false },
          { initialSeq: undefined, pieces: new Map(), fin: false },
        ],
        segments: [],
        closed: false,
      };
      all.push(stream);
      open.set(keyOf(stream.client, stream.server), stream);
      open.delete(keyOf(stream.server, stream.client));
    }
    const fromClient = keyOf(source, target) === keyOf(stream.client, stream.server);
    const direction = stream.directions[fromClient ? 0 : 1];
    if (direction.initialSeq === undefined) {
      direction.initialSeq = syn ? (seq + 1) >>> 0 : seq;
    }
    const offset = (seq + (syn ? 1 : 0) - direction.initialSeq) >>> 0;
    if (payload.length > 0 && !direction.pieces.has(offset)) {
      direction.pieces.set(offset, payload);
    }
    if (payload.length > 0 || fin) {
      stream.segments.push({ fromClient, offset, payload, fin });
    }
    if (fin) direction.fin = true;
    if ((flags & 0x04) !== 0 || (stream.directions[0].fin && stream.directions[1].fin)) {
      stream.closed = true;
    }
  }
  return all.map((s) => ({
    index: s.index,
    client: s.client,
    server: s.server,
    clientToServer: reassemble(s.directions[0], `TCP stream ${s.index} client bytes`),
    serverToClient: reassemble(s.directions[1], `TCP stream ${s.index} server bytes`),
    clientFin: s.directions[0].fin,
    serverFin: s.directions[1].fin,
    segments: s.segments,
  }));
}
