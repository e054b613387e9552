import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { decodeWalbCtl, WALB_COMMAND, WALB_IOCTL } from "./ctl.ts";
import { bufferAddress, splitDeviceNumber } from "./control.ts";
import { kernelDeviceName } from "./device.ts";

Deno.test("splitDeviceNumber() splits st_rdev as glibc major()/minor() do", () => {
  assertEquals(splitDeviceNumber(0x0801), { major: 8, minor: 1 }); // sda1
  assertEquals(splitDeviceNumber(0x0700), { major: 7, minor: 0 }); // loop0
  // major 259, minor 1048575: the wide encoding (minor bits 20..31 above bit 12).
  const rdev = Number((0xfffn << 20n) | (259n << 8n) | 0xffn);
  assertEquals(splitDeviceNumber(rdev), { major: 259, minor: 0xfffff });
});

Deno.test("kernelDeviceName() takes the name after /dev/walb/", () => {
  assertEquals(kernelDeviceName("/dev/walb/vol0"), "vol0");
  assertThrows(() => kernelDeviceName("/run/walb/vol0"), WalbDeviceError);
});

Deno.test("the ioctl numbers and command codes match device-and-wlog.md §6.2 and §6.4", () => {
  assertEquals(WALB_IOCTL.VERSION, 0x8004fe00);
  assertEquals(WALB_IOCTL.CONTROL, 0xc078fe01);
  assertEquals(WALB_IOCTL.WDEV, 0xc078fe02);
  assertEquals(WALB_COMMAND.SET_OLDEST_LSID, 7);
  assertEquals(WALB_COMMAND.IS_FROZEN, 30);
});

Deno.test("bufferAddress() is the address the kernel would copy from", () => {
  const bytes = new Uint8Array(64);
  const address = bufferAddress(bytes);
  const view = new Deno.UnsafePointerView(Deno.UnsafePointer.create(address)!);
  bytes[5] = 0x5a;
  assertEquals(view.getUint8(5), 0x5a);
  // A ctl carrying it decodes back to the same address.
  const ctl = new Uint8Array(120);
  new DataView(ctl.buffer).setBigUint64(56, address, true);
  assertEquals(decodeWalbCtl(ctl).u2k.buf, address);
});
