import { metaLsidGid } from "../../format/meta/mod.ts";
import { DenoServerFs } from "../runtime/fs.ts";
import { assertEquals, assertRejects } from "../../testing/assert.ts";
import { CorruptDataError } from "../../errors.ts";
import { StorageStore } from "./store.ts";

Deno.test("StorageStore writes and reads back every file of a volume", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-storage-store-" });
  try {
    const store = new StorageStore(new DenoServerFs(), baseDir);
    const done = metaLsidGid((1n << 64n) - 1n, (1n << 64n) - 1n, { timestamp: 1700000000 });
    await store.initVolume("vol0", { wdevPath: "/run/walb/wdev0", done, queueSalt: 99 });
    assertEquals(await store.listVolumes(), ["vol0"]);
    assertEquals(await store.readPath("vol0"), "/run/walb/wdev0");
    assertEquals(await store.readState("vol0"), "SyncReady");
    assertEquals(await store.readUuid("vol0"), new Uint8Array(16));
    assertEquals(await store.readDone("vol0"), done);
    assertEquals(await store.readQueue("vol0"), { salt: 99, records: [] });
    const records = [metaLsidGid(20n, 3n, { isMergeable: true }), metaLsidGid(10n, 1n)];
    await store.writeQueue("vol0", { salt: 99, records });
    assertEquals((await store.readQueue("vol0")).records, records);
    await store.writeState("vol0", "Target");
    assertEquals(await store.readState("vol0"), "Target");
    await Deno.writeFile(
      `${baseDir}/vol0/state`,
      Uint8Array.of(5, ...new TextEncoder().encode("Clear")),
    );
    await assertRejects(() => store.readState("vol0"), CorruptDataError);
    await store.removeVolume("vol0");
    assertEquals(await store.listVolumes(), []);
  } finally {
    await Deno.remove(baseDir, { recursive: true });
  }
});
