import { assertThrows } from "../testing/assert.ts";
import { checkStartParam, WALB_START_PARAM_DEFAULTS } from "./start_param.ts";
import { WalbDeviceError } from "./wdev_error.ts";

Deno.test("checkStartParam() accepts the defaults and refuses what the kernel refuses", () => {
  checkStartParam(WALB_START_PARAM_DEFAULTS);
  const bad = [
    { maxPendingMb: 1 },
    { maxPendingMb: 16385 },
    { minPendingMb: 32 },
    { minPendingMb: 0 },
    { queueStopTimeoutMs: 0 },
    { logFlushIntervalMb: 17 },
    { nPackBulk: 0 },
    { nIoBulk: 0 },
    { name: "a".repeat(26) },
  ];
  for (const change of bad) {
    assertThrows(
      () => checkStartParam({ ...WALB_START_PARAM_DEFAULTS, ...change }),
      WalbDeviceError,
    );
  }
});
