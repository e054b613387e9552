/**
 * Subprocess smoke tests of the wlog tools through `./walb`.
 */
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { walb } from "./run_walb.ts";

Deno.test("walb wlog-show prints w1.wlog like the original", async () => {
  const result = await walb(["wlog-show", `${VECTORS_DIR}w1.wlog`]);
  assertEquals(result.code, 0, result.stderr);
  assertEquals(result.stdout, await Deno.readTextFile(`${VECTORS_DIR}w1.wlog-show.txt`));
});

Deno.test("walb wlog-gen | wlog-show -validate round-trips through pipes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wlog_cli_" });
  try {
    const path = `${dir}/g.wlog`;
    const again = await walb([
      "wlog-gen",
      "--seed",
      "7",
      "-s",
      "1M",
      "-z",
      "64K",
      "-b",
      "4096",
      "-o",
      path,
    ]);
    assertEquals(again.code, 0, again.stderr);
    const bytes = await Deno.readFile(path);
    const show = await walb(["wlog-show", "-validate", "-stat"], bytes);
    assertEquals(show.code, 0, show.stderr);
    assert(show.stdout.startsWith("bgnLsid 0\n"), show.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walb wlog-show reports bad options like the original", async () => {
  const result = await walb(["wlog-show", "--head"]);
  assertEquals(result.code, 1);
  assert(result.stdout.startsWith("OptionError:bad opt\nwlog-show: pretty-print wlog input.\n"));
  const order = await walb(["wlog-show", "-b", "3", "-e", "2", `${VECTORS_DIR}w1.wlog`]);
  assertEquals(order.code, 1);
  assert(order.stderr.includes(" ERROR wlog-show:beginLsid must be < endLsid.\n"), order.stderr);
});
