import { assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import {
  decodeDiskDataList,
  decodeStartParam,
  decodeWalbCtl,
  decodeWalbVersion,
  emptyCtl,
  encodeStartParam,
  encodeWalbCtl,
  WALB_COMMAND,
  WALB_CTL_SIZE,
  WALB_DYNAMIC_MINOR,
  WALB_IOCTL,
  WALB_START_PARAM_DEFAULTS,
  walbCommandName,
} from "./ctl.ts";

Deno.test("WALB_IOCTL numbers match §6.2", () => {
  assertEquals(WALB_IOCTL.VERSION, 0x8004fe00);
  assertEquals(WALB_IOCTL.CONTROL, 0xc078fe01);
  assertEquals(WALB_IOCTL.WDEV, 0xc078fe02);
});

Deno.test("WALB_COMMAND codes match §6.4", () => {
  assertEquals(WALB_COMMAND.START_DEV, 1);
  assertEquals(WALB_COMMAND.LIST_DEV, 4);
  assertEquals(WALB_COMMAND.GET_OLDEST_LSID, 6);
  assertEquals(WALB_COMMAND.SET_OLDEST_LSID, 7);
  assertEquals(WALB_COMMAND.GET_CHECKPOINT_INTERVAL, 16);
  assertEquals(WALB_COMMAND.GET_WRITTEN_LSID, 19);
  assertEquals(WALB_COMMAND.GET_LOG_CAPACITY, 23);
  assertEquals(WALB_COMMAND.RESIZE, 25);
  assertEquals(WALB_COMMAND.CLEAR_LOG, 26);
  assertEquals(WALB_COMMAND.IS_FROZEN, 30);
  assertEquals(Object.keys(WALB_COMMAND).length, 31);
  assertEquals(walbCommandName(27), "IS_LOG_OVERFLOW");
  assertEquals(walbCommandName(31), undefined);
});

Deno.test("encodeWalbCtl() places every field at its §6.3 offset", () => {
  const ctl = emptyCtl(WALB_COMMAND.START_DEV);
  ctl.valInt = -2;
  ctl.valU64 = 0x0102030405060708n;
  ctl.valU32 = 0xaabbccdd;
  ctl.error = -7;
  ctl.u2k = {
    wmajor: 0x11,
    wminor: WALB_DYNAMIC_MINOR,
    lmajor: 0x13,
    lminor: 0x14,
    dmajor: 0x15,
    dminor: 0x16,
    bufSize: 64n,
    buf: 0x7fff12345678n,
    kbuf: 0n,
  };
  ctl.k2u.bufSize = 64n;
  ctl.k2u.buf = 0x55aa00n;
  const bytes = encodeWalbCtl(ctl);
  assertEquals(bytes.length, WALB_CTL_SIZE);
  const hex = toHex(bytes);
  const at = (offset: number, size: number) => hex.slice(offset * 2, (offset + size) * 2);
  assertEquals(at(0, 4), "01000000");
  assertEquals(at(4, 4), "feffffff");
  assertEquals(at(8, 8), "0807060504030201");
  assertEquals(at(16, 4), "ddccbbaa");
  assertEquals(at(20, 4), "f9ffffff");
  assertEquals(at(24, 24), "11000000ffffffff130000001400000015000000" + "16000000");
  assertEquals(at(48, 8), "4000000000000000");
  assertEquals(at(56, 8), "78563412ff7f0000");
  assertEquals(at(64, 8), "0000000000000000");
  assertEquals(at(72, 24), "00".repeat(24));
  assertEquals(at(96, 8), "4000000000000000");
  assertEquals(at(104, 8), "00aa550000000000");
  assertEquals(at(112, 8), "0000000000000000");
  assertEquals(decodeWalbCtl(bytes), ctl);
});

Deno.test("decodeWalbCtl() reads a kernel reply and rejects wrong lengths", () => {
  const reply = new Uint8Array(120);
  const view = new DataView(reply.buffer);
  view.setInt32(0, WALB_COMMAND.GET_LOG_CAPACITY, true);
  view.setBigUint64(8, 131062n, true);
  view.setUint32(72, 251, true); // k2u.wmajor
  const ctl = decodeWalbCtl(reply);
  assertEquals(ctl.command, 23);
  assertEquals(ctl.valU64, 131062n);
  assertEquals(ctl.k2u.wmajor, 251);
  assertThrows(() => decodeWalbCtl(new Uint8Array(119)), CorruptDataError, "expected 120");
});

Deno.test("encodeWalbCtl() rejects values outside their C types", () => {
  const ctl = emptyCtl(WALB_COMMAND.SET_CHECKPOINT_INTERVAL);
  ctl.valU32 = -1;
  assertThrows(() => encodeWalbCtl(ctl), RangeError, "val_u32");
  ctl.valU32 = 0;
  ctl.valU64 = 1n << 64n;
  assertThrows(() => encodeWalbCtl(ctl), RangeError, "val_u64");
});

Deno.test("encodeStartParam() lays out walb_start_param and round-trips", () => {
  const param = { ...WALB_START_PARAM_DEFAULTS, name: "vol0" };
  const bytes = encodeStartParam(param);
  assertEquals(bytes.length, 64);
  assertEquals(toHex(bytes.subarray(0, 5)), "766f6c3000");
  assertEquals(
    toHex(bytes.subarray(32)),
    "20000000" + "10000000" + "64000000" + "20000000" + "64000000" + "10000000" + "80000000" +
      "00040000",
  );
  assertEquals(decodeStartParam(bytes), param);
  assertThrows(
    () => encodeStartParam({ ...param, name: "x".repeat(32) }),
    LimitExceededError,
  );
  const noNul = bytes.slice();
  noNul.fill(0x41, 0, 32);
  assertThrows(() => decodeStartParam(noNul), CorruptDataError, "NUL");
});

Deno.test("decodeDiskDataList() reads LIST_DEV entries", () => {
  const bytes = new Uint8Array(3 * 40);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("walb/vol0"), 0);
  view.setUint32(32, 251, true);
  view.setUint32(36, 0, true);
  bytes.set(new TextEncoder().encode("walb/vol1"), 40);
  view.setUint32(72, 251, true);
  view.setUint32(76, 2, true);
  assertEquals(decodeDiskDataList(bytes, 2), [
    { name: "walb/vol0", major: 251, minor: 0 },
    { name: "walb/vol1", major: 251, minor: 2 },
  ]);
  assertThrows(() => decodeDiskDataList(bytes, 4), CorruptDataError, "count 4");
});

Deno.test("decodeWalbVersion() splits 0x00010501 into 1.5.1", () => {
  assertEquals(decodeWalbVersion(0x00010501), { major: 1, minor: 5, patch: 1 });
});
