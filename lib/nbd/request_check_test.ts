import { assertEquals } from "../testing/assert.ts";
import {
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_EPERM,
} from "./protocol.ts";
import { checkRequest } from "./request_check.ts";

const backend = {
  sizeBytes: 1 << 20,
  readOnly: false,
  canTrim: true,
  canWriteZeroes: false,
  blockSizes: { minimum: 512, preferred: 4096, maximum: 65536 },
};

function check(type: number, offset: number, length: number, flags = 0, target = backend) {
  return checkRequest({ flags, type, handleHigh: 0, handleLow: 0, offset, length }, target);
}

Deno.test("checkRequest() accepts aligned in-range requests", () => {
  assertEquals(check(NBD_CMD_READ, 0, 65536), 0);
  assertEquals(check(NBD_CMD_WRITE, (1 << 20) - 512, 512, NBD_CMD_FLAG_FUA), 0);
  assertEquals(check(NBD_CMD_TRIM, 0, 1 << 20), 0); // no payload: the maximum does not apply
  assertEquals(check(NBD_CMD_FLUSH, 0, 0), 0);
  assertEquals(check(NBD_CMD_READ, 1 << 20, 0), 0);
});

Deno.test("checkRequest() rejects range, length, alignment, flag and feature errors", () => {
  assertEquals(check(NBD_CMD_READ, 1 << 20, 512), NBD_EINVAL);
  assertEquals(check(NBD_CMD_WRITE, 1 << 20, 512), NBD_ENOSPC);
  assertEquals(check(NBD_CMD_TRIM, 2 ** 62, 512), NBD_ENOSPC);
  assertEquals(check(NBD_CMD_READ, 0, 65536 + 512), NBD_EINVAL);
  assertEquals(check(NBD_CMD_WRITE, 1, 512), NBD_EINVAL);
  assertEquals(check(NBD_CMD_READ, 0, 100), NBD_EINVAL);
  assertEquals(check(NBD_CMD_READ, 0, 512, NBD_CMD_FLAG_FAST_ZERO), NBD_EINVAL);
  assertEquals(check(NBD_CMD_WRITE_ZEROES, 0, 512), NBD_EINVAL);
  assertEquals(check(42, 0, 0), NBD_EINVAL);
  const readOnly = { ...backend, readOnly: true };
  assertEquals(check(NBD_CMD_WRITE, 0, 512, 0, readOnly), NBD_EPERM);
  assertEquals(check(NBD_CMD_READ, 0, 512, 0, readOnly), 0);
});
