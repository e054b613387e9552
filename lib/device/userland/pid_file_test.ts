import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { userlandPaths } from "./paths.ts";
import { claimPidFile, isDaemonProcess, livePid } from "./pid_file.ts";

async function withRunDir(body: (runDir: string) => Promise<void>): Promise<void> {
  const runDir = await Deno.makeTempDir({ prefix: "walb-pid-file-" });
  try {
    await body(runDir);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
}

Deno.test("claimPidFile() holds the name until release(); livePid() sees the holder", () =>
  withRunDir(async (runDir) => {
    const paths = userlandPaths(runDir, "vol0");
    const lock = await claimPidFile(paths);
    assertEquals((await Deno.readTextFile(paths.pidPath)).trim(), `${Deno.pid}`);
    assertEquals(await livePid(paths.pidPath), Deno.pid);
    const error = await assertRejects(() => claimPidFile(paths), WalbDeviceError);
    assertEquals(error.code, "EEXIST");
    await lock.release();
    assertEquals(await livePid(paths.pidPath), undefined);
    await (await claimPidFile(paths)).release();
  }));

Deno.test("a pid file naming a live but unrelated process is stale: livePid() ignores it", () =>
  withRunDir(async (runDir) => {
    const paths = userlandPaths(runDir, "vol0");
    // pid 1 is alive, and so is this process: a pid alone proves nothing once pids wrap.
    for (const pid of [1, Deno.pid]) {
      await Deno.writeTextFile(paths.pidPath, `${pid}\n`);
      assertEquals(await livePid(paths.pidPath), undefined, "no lock is held");
    }
    const lock = await claimPidFile(paths);
    assertEquals(await livePid(paths.pidPath), Deno.pid, "taken over");
    await lock.release();
  }));

Deno.test("a pid file locked by another process is held, and freed when it dies", () =>
  withRunDir(async (runDir) => {
    const paths = userlandPaths(runDir, "vol0");
    const code = `const f = await Deno.open(${JSON.stringify(paths.pidPath)}, ` +
      `{ read: true, write: true, create: true }); await f.tryLock(true); ` +
      `await f.write(new TextEncoder().encode(Deno.pid + "\\n")); console.log("locked"); ` +
      `await new Promise((resolve) => setTimeout(resolve, 60000));`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", code, "wdevc", "run-daemon", "-n", "vol0"],
      stdout: "piped",
      env: { DENO_NO_PACKAGE_JSON: "1" },
    }).spawn();
    try {
      const reader = child.stdout.getReader();
      await reader.read(); // "locked"
      reader.releaseLock();
      assertEquals(await livePid(paths.pidPath), child.pid);
      assert(await isDaemonProcess(child.pid, "vol0"), "its cmdline names vol0's daemon");
      assert(!(await isDaemonProcess(child.pid, "vol1")), "not vol1's");
      assert(!(await isDaemonProcess(Deno.pid, "vol0")), "the test runner is no daemon");
      const error = await assertRejects(() => claimPidFile(paths), WalbDeviceError);
      assertEquals(error.code, "EEXIST");
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    assertEquals(await livePid(paths.pidPath), undefined, "the lock died with the process");
    assert(!(await isDaemonProcess(child.pid, "vol0")), "gone");
    await (await claimPidFile(paths)).release();
  }));
