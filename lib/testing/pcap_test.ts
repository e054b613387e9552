import { CorruptDataError } from "../errors.ts";
import { assertEquals, assertThrows, toHex } from "./assert.ts";
import { concatBytes } from "./net_pipe.ts";
import { readPcapTcpStreams } from "./pcap.ts";

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const PSH = 0x08;

function tcp(
  sourcePort: number,
  targetPort: number,
  seq: number,
  flags: number,
  payload: number[],
) {
  const header = new Uint8Array(20);
  const view = new DataView(header.buffer);
  view.setUint16(0, sourcePort);
  view.setUint16(2, targetPort);
  view.setUint32(4, seq >>> 0);
  header[12] = 5 << 4;
  header[13] = flags;
  return concatBytes([header, Uint8Array.from(payload)]);
}

function ipv6(source: number, target: number, segment: Uint8Array): Uint8Array {
  const header = new Uint8Array(40);
  header[0] = 0x60;
  new DataView(header.buffer).setUint16(4, segment.length);
  header[6] = 6;
  header[23] = source; // ::1-style addresses differing in the last byte
  header[39] = target;
  return concatBytes([header, segment]);
}

function linuxCooked(packet: Uint8Array): Uint8Array {
  const header = new Uint8Array(16);
  header[14] = 0x86;
  header[15] = 0xdd;
  return concatBytes([header, packet]);
}

function pcapFile(linkType: number, frames: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(24);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, linkType, true);
  const records = frames.map((frame) => {
    const record = new Uint8Array(16);
    const rv = new DataView(record.buffer);
    rv.setUint32(8, frame.length, true);
    rv.setUint32(12, frame.length, true);
    return concatBytes([record, frame]);
  });
  return concatBytes([header, ...records]);
}

Deno.test("readPcapTcpStreams() reassembles Linux-cooked IPv6 out of order and retransmitted", () => {
  const c = (seq: number, flags: number, payload: number[] = []) =>
    linuxCooked(ipv6(1, 2, tcp(40000, 5000, seq, flags, payload)));
  const s = (seq: number, flags: number, payload: number[] = []) =>
    linuxCooked(ipv6(2, 1, tcp(5000, 40000, seq, flags, payload)));
  const clientIsn = 0xfffffffe; // sequence numbers wrap inside the stream
  const serverIsn = 1000;
  const frames = [
    c(clientIsn, SYN),
    s(serverIsn, SYN | ACK),
    c(clientIsn + 1, ACK | PSH, [1, 2]),
    c(clientIsn + 5, ACK | PSH, [5, 6]), // arrives before bytes 3-4
    c(clientIsn + 3, ACK | PSH, [3, 4]),
    c(clientIsn + 3, ACK | PSH, [3, 4]), // retransmission
    s(serverIsn + 1, ACK | PSH | FIN, [9]),
    c(clientIsn + 7, ACK | FIN),
  ];
  const [stream, ...rest] = readPcapTcpStreams(pcapFile(113, frames));
  assertEquals(rest.length, 0);
  assertEquals(stream?.client, { address: "0:0:0:0:0:0:0:1", port: 40000 });
  assertEquals(stream?.server.port, 5000);
  assertEquals(toHex(stream!.clientToServer), "010203040506");
  assertEquals(toHex(stream!.serverToClient), "09");
  assertEquals([stream!.clientFin, stream!.serverFin], [true, true]);
});

Deno.test("readPcapTcpStreams() rejects a gap and a bad magic", () => {
  const frames = [
    linuxCooked(ipv6(1, 2, tcp(1, 2, 0, SYN, []))),
    linuxCooked(ipv6(1, 2, tcp(1, 2, 3, ACK, [7]))),
  ];
  assertThrows(() => readPcapTcpStreams(pcapFile(113, frames)), CorruptDataError, "gap");
  assertThrows(() => readPcapTcpStreams(new Uint8Array(24)), CorruptDataError, "magic");
});
