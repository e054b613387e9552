import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import {
  checkUserlandName,
  defaultRunDir,
  freeUserlandName,
  splitControlPath,
  userlandPaths,
} from "./paths.ts";

Deno.test("userlandPaths() names the control, NBD, pid and log paths", () => {
  assertEquals(userlandPaths("/run/walb/", "vol0"), {
    runDir: "/run/walb/",
    name: "vol0",
    controlPath: "/run/walb/vol0",
    nbdPath: "/run/walb/vol0.nbd",
    nbdUri: "nbd+unix:///?socket=/run/walb/vol0.nbd",
    pidPath: "/run/walb/vol0.pid",
    logPath: "/run/walb/vol0.log",
  });
  assertEquals(splitControlPath("/run/walb/vol0"), { runDir: "/run/walb", name: "vol0" });
});

Deno.test("defaultRunDir() reads WALB_RUN_DIR, else /run/walb", () => {
  assertEquals(defaultRunDir({ get: () => undefined }), "/run/walb");
  assertEquals(defaultRunDir({ get: () => "/tmp/x" }), "/tmp/x");
});

Deno.test("checkUserlandName() refuses names the run directory cannot hold", () => {
  checkUserlandName("vol0");
  for (const name of ["", "a/b", ".x", "v.nbd", "a b", "x".repeat(26)]) {
    assertThrows(() => checkUserlandName(name), WalbDeviceError);
  }
});

Deno.test("freeUserlandName() picks the smallest free wdev<K>", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await freeUserlandName(dir), "wdev0");
    await Deno.writeTextFile(`${dir}/wdev0.log`, "");
    await Deno.writeTextFile(`${dir}/wdev2.pid`, "");
    assertEquals(await freeUserlandName(dir), "wdev1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
