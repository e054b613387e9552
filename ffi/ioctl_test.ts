import { assertEquals, assertThrows } from "../lib/testing/assert.ts";
import { BLOCK_IOCTL, decodeIoc, io, ioc, IOC_READ, IOC_WRITE, ior, iow, iowr } from "./ioctl.ts";

Deno.test("BLOCK_IOCTL matches the values of <linux/fs.h> on x86-64", () => {
  assertEquals(BLOCK_IOCTL.BLKFLSBUF, 0x1261);
  assertEquals(BLOCK_IOCTL.BLKSSZGET, 0x1268);
  assertEquals(BLOCK_IOCTL.BLKGETSIZE64, 0x80081272);
  assertEquals(BLOCK_IOCTL.BLKDISCARD, 0x1277);
  assertEquals(BLOCK_IOCTL.BLKPBSZGET, 0x127b);
  assertEquals(BLOCK_IOCTL.BLKZEROOUT, 0x127f);
});

Deno.test("ioc() encodes direction, size, type and nr like the kernel macros", () => {
  // Known values: FS_IOC_GETFLAGS = _IOR('f', 1, long), FIFREEZE = _IOWR('X', 119, int).
  assertEquals(ior(0x66, 1, 8), 0x80086601);
  assertEquals(iowr(0x58, 119, 4), 0xc0045877);
  assertEquals(iow(0x66, 2, 8), 0x40086602);
  assertEquals(io(0x12, 97), 0x1261);
  assertEquals(ioc(IOC_READ | IOC_WRITE, { type: 0xfe, nr: 1, sizeBytes: 120 }), 0xc078fe01);
});

Deno.test("decodeIoc() inverts ioc()", () => {
  assertEquals(decodeIoc(0xc078fe02), { dir: 3, sizeBytes: 120, type: 0xfe, nr: 2 });
  assertEquals(decodeIoc(BLOCK_IOCTL.BLKGETSIZE64), { dir: 2, sizeBytes: 8, type: 0x12, nr: 114 });
});

Deno.test("ioc() rejects fields wider than their bits", () => {
  assertThrows(() => ioc(4, { type: 0, nr: 0, sizeBytes: 0 }), RangeError, "ioctl dir");
  assertThrows(() => ior(0x100, 0, 0), RangeError, "ioctl type");
  assertThrows(() => ior(0, 256, 0), RangeError, "ioctl nr");
  assertThrows(() => ior(0, 0, 1 << 14), RangeError, "ioctl size");
});
