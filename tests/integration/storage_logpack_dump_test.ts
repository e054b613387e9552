/**
 * The storage's dumps of bad logpack headers (device-and-wlog.md §3.8, protocol-and-servers.md
 * §1.9.5) with a real userland WalB device: a logpack header corrupted in the ldev file stops
 * the wlog extraction and leaves `<volDir>/logpackheader-<lsid>` with the raw block;
 * `dbg-dump-logpack-header VOL LSID` writes the same file on request.
 */
import { assert, assertEquals, assertRejects, toHex } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { writeThroughNbd } from "../../lib/testing/harness.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { openWalbDevice } from "../../lib/device/wdev.ts";
import { lsidToByteOffset } from "../../lib/format/wlog/super_sector.ts";
import { RemoteError } from "../../lib/protocol/errors.ts";
import {
  attachProxy,
  command,
  get,
  MiB,
  P0,
  startArchive,
  startDevice,
  startProxy,
  startStorage,
  VOL,
  waitLong,
} from "./storage_support.ts";

async function readAt(path: string, offset: bigint, length: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = await file.read(bytes.subarray(done));
      if (n === null) throw new Error(`short read of ${path}`);
      done += n;
    }
    return bytes;
  } finally {
    file.close();
  }
}

async function writeAt(path: string, offset: bigint, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < bytes.length) done += await file.write(bytes.subarray(done));
    await file.sync();
  } finally {
    file.close();
  }
}

Deno.test("storage dumps a corrupted logpack header and serves dbg-dump-logpack-header", async () => {
  const root = await Deno.makeTempDir({ prefix: "walb-storage-dump-" });
  const prng = seededPrng("storage logpack dump");
  const net = new MemoryNet();
  const daemon = await startDevice(root, 8 * MiB);
  const archive = await startArchive(net, `${root}/archive`);
  let p0 = await startProxy(net, `${root}/p0`, P0);
  const storage = await startStorage(net, `${root}/storage`);
  const device = await openWalbDevice(daemon.paths.controlPath);
  const ldevPath = `${root}/ldev`;
  const volDir = `${root}/storage/${VOL}`;
  try {
    const a = archive.endpoint;
    const s = storage.endpoint;
    await command(a, "init-vol", [VOL]);
    await attachProxy(p0.endpoint);
    await command(s, "init-vol", [VOL, daemon.paths.controlPath]);
    await command(s, "full-bkp", [VOL, "64K"], "accept");
    await waitLong(
      "storage Target",
      async () => (await get(s, ["state", VOL], "string")) === "Target",
    );

    // no proxy: the next pack stays in the log; corrupt its header in the ldev file
    await p0.kill();
    const lsid = (await device.lsids()).latest;
    await writeThroughNbd({ unixPath: daemon.paths.nbdPath }, 0, {
      lengthBytes: 4096,
      random: prng,
    }, { flush: true });
    assert((await device.lsids()).permanent > lsid, "a pack was written");
    const sup = await device.readSuper();
    const offset = lsidToByteOffset(lsid, sup);
    const block = await readAt(ldevPath, offset, sup.pbs);
    assertEquals(toHex(await device.readLogPb(lsid)), toHex(block));
    block[sup.pbs - 1] = block[sup.pbs - 1]! ^ 0xff;
    await writeAt(ldevPath, offset, block);

    // the proxy is back: extraction meets the bad header and dumps it
    p0 = await startProxy(net, `${root}/p0`, P0);
    await command(s, "kick", []);
    const dumpPath = `${volDir}/logpackheader-${lsid}`;
    await waitLong("logpack header dump", async () => (await Deno.stat(dumpPath)).isFile);
    assertEquals(toHex(await Deno.readFile(dumpPath)), toHex(block));
    assertEquals((await Deno.stat(dumpPath)).mode! & 0o777, 0o644);
    // The file appears before its log line is written: wait for the line too.
    await waitLong(
      "dump logged",
      () => Promise.resolve(storage.logger.has(`invalid logpack dumped:${VOL}:${lsid}`)),
    );

    // on request: the raw pb at any lsid, no validation
    const other = lsid + 1n;
    await command(s, "dbg-dump-logpack-header", [VOL, String(other)]);
    assertEquals(
      toHex(await Deno.readFile(`${volDir}/logpackheader-${other}`)),
      toHex(await readAt(ldevPath, lsidToByteOffset(other, sup), sup.pbs)),
    );
    const clear = await assertRejects(
      () => command(s, "dbg-dump-logpack-header", ["vol9", "0"]),
      RemoteError,
    );
    assert(clear.message.includes("bad state"), clear.message);
    await assertRejects(() => command(s, "dbg-dump-logpack-header", [VOL, "x"]), RemoteError);
  } finally {
    await device.close().catch(() => {});
    await storage.kill().catch(() => {});
    await p0.kill().catch(() => {});
    await archive.kill().catch(() => {});
    await daemon.stop(true).catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
