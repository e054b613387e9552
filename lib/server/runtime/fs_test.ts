import { assert, assertEquals } from "../../testing/assert.ts";
import { DenoServerFs, TEMP_NAME_PATTERN } from "./fs.ts";

Deno.test("DenoServerFs.writeFileAtomic() replaces the file and leaves no temporary", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = new DenoServerFs();
    await fs.writeFileAtomic(`${dir}/state`, new TextEncoder().encode("a"));
    await fs.writeFileAtomic(`${dir}/state`, new TextEncoder().encode("bb"));
    assertEquals(new TextDecoder().decode(await fs.readFile(`${dir}/state`)), "bb");
    assertEquals((await fs.readDir(dir)).map((e) => e.name), ["state"]);
    assertEquals((await Deno.stat(`${dir}/state`)).mode! & 0o777, 0o644);
    const temp = await fs.makeTempFile(dir);
    assert(TEMP_NAME_PATTERN.test(temp.slice(dir.length + 1)), temp);
    assert(await fs.exists(temp));
    await fs.remove(temp);
    assert(!(await fs.exists(temp)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoServerFs.commitTempFile() publishes a temporary with mode 0644", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fs = new DenoServerFs();
    const temp = await fs.makeTempFile(dir);
    assertEquals((await Deno.stat(temp)).mode! & 0o777, 0o600);
    await fs.commitTempFile(temp, `${dir}/0-1.wdiff`);
    assertEquals((await fs.readDir(dir)).map((e) => e.name), ["0-1.wdiff"]);
    assertEquals((await Deno.stat(`${dir}/0-1.wdiff`)).mode! & 0o777, 0o644);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
