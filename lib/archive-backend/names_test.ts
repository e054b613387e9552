import { assertEquals } from "../testing/assert.ts";
import {
  baseImageName,
  baseTmpImageName,
  coldImageName,
  parseImageName,
  restoredImageName,
  restoredTmpImageName,
} from "./names.ts";

Deno.test("image names round-trip through parseImageName()", () => {
  assertEquals(parseImageName(baseImageName("v-1")), { kind: "base", volId: "v-1" });
  assertEquals(parseImageName(restoredImageName("v", 5n)), {
    kind: "restored",
    volId: "v",
    gid: 5n,
  });
  assertEquals(parseImageName(restoredTmpImageName("v", 5n)), {
    kind: "restoredTmp",
    volId: "v",
    gid: 5n,
  });
  assertEquals(parseImageName(coldImageName("v", 7n)), { kind: "cold", volId: "v", gid: 7n });
  assertEquals(parseImageName(baseTmpImageName("v", 7n)), { kind: "baseTmp", volId: "v", gid: 7n });
});

Deno.test("parseImageName() ignores other names", () => {
  for (
    const name of ["lv0", "wb_", "wr_v", "wr_v_x", "wr_v_01", "wc_v_1_tmp", "wb_a_b", "xx_v_1"]
  ) {
    assertEquals(parseImageName(name), undefined, name);
  }
});
