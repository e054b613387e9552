/**
 * Backup-group benchmark: real `walb storage`, `walb proxy` and `walb archive -discard zero`
 * processes on loopback around a userland WalB device (`walb wdevc create-wdev`), driven by
 * lib/controller, written through the device's NBD export with fio's nbd engine.
 *
 * Rows (the backup-group issue's server benchmarks):
 * 1. full backup of a 2 GiB device (first half random, second half compressible) with the
 *    storage's default `-sync-cmpr snappy:0:1`: device bytes / (full-bkp → first restorable);
 * 2. restore of a snapshot 4 diffs after the full backup (each diff: 1/8 of the device written
 *    at random 64 KiB offsets, half-compressible buffers): image bytes / restore time;
 * 3. end-to-end lag at a fixed 50 MB/s write rate: a snapshot every 2 s, time until the
 *    archive lists it as restorable;
 * 4. sustained flow: 2× the device size written sequentially (1 MiB, QD 4, half-compressible)
 *    as fast as the device takes it; fio's rate and the absorbed rate (bytes / time until a
 *    snapshot taken at the end is restorable on the archive).
 * Each row also gives the CPU use of every process (from /proc/PID/stat) and the time its
 * threads sat runnable waiting for a CPU (schedstat; other load on the machine), and the run ends
 * with the peak RSS (VmHWM) of each server and of the device daemon.
 *
 * Usage: deno run --allow-all bench/servers.ts [--scale F] [--dir DIR] [--lag-s N]
 *   [--perf ROW_REGEX] [--rows ROW_REGEX] [--keep]
 *   --scale 0.125 makes every size 8x smaller (a quick look); the default is 1.
 *   --perf records `perf record -g` of every server during the matching rows (servers run
 *   with --perf-basic-prof; reports in DIR/perf-<row>-<server>.txt).
 *   --rows runs only the matching rows after the full backup (which always runs: the others
 *   need its base), for quicker profiling runs.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { realClock } from "../lib/clock.ts";
import {
  Controller,
  delRestored,
  init,
  merge,
  prepareBackup,
  restore,
  ServerConnectionParam,
  ServerLayout,
  snapshotNbk,
} from "../lib/controller/mod.ts";
import { DenoNet } from "../lib/net.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scale: { type: "string", default: "1" },
    dir: { type: "string", default: "/var/tmp/walb-servers-bench" },
    "lag-s": { type: "string", default: "20" },
    perf: { type: "string", default: "" },
    rows: { type: "string", default: "" },
    keep: { type: "boolean", default: false },
  },
});
const MiB = 1 << 20;
const scale = Number(values.scale);
const dir = values.dir!;
const runDir = `${dir}/run`;
const lagSeconds = Number(values["lag-s"]);
const perfRows = values.perf ? new RegExp(values.perf) : undefined;
/** Rows to run besides the full backup (every other row needs its base); all by default. */
const selectedRows = values.rows ? new RegExp(values.rows) : undefined;
const root = new URL("..", import.meta.url).pathname;
const VOL = "vol0";
const DEVICE = "bench";
const deviceBytes = Math.max(64, Math.round(2048 * scale)) * MiB;
const diffBytes = deviceBytes / 8;
const flowBytes = 2 * deviceBytes;
/** The ldev holds the whole flow row, so a slow extraction never overflows it. */
const ldevBytes = flowBytes + 256 * MiB;
const LAG_RATE_MBPS = 50;
const LAG_INTERVAL_MS = 2000;

// ---- processes -------------------------------------------------------------------------

async function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    env: { WALB_RUN_DIR: runDir, DENO_NO_PACKAGE_JSON: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const output = await child.output();
    const decoder = new TextDecoder();
    if (!output.success) {
      throw new Error(`${cmd} ${args.join(" ")}: ${output.code} ${decoder.decode(output.stderr)}`);
    }
    return decoder.decode(output.stdout);
  } finally {
    clearTimeout(timer);
  }
}

const walb = (args: string[], timeoutMs = 60_000) => run(`${root}walb`, args, timeoutMs);

/** Rejects when `promise` has not settled within `timeoutMs`. */
async function bounded<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** User + system CPU seconds of a process (all threads), 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
  } catch {
    return 0;
  }
}

/** Time the process's threads spent runnable but waiting for a CPU [s] (schedstat). */
function runQueueSeconds(pid: number): number {
  let total = 0;
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const fields = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ");
      total += Number(fields[1]) / 1e9;
    }
  } catch { /* gone */ }
  return total;
}

/** Peak resident set (VmHWM) of a running process [MiB]. */
function peakRssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  if (match === null) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]) / 1024;
}

interface Proc {
  name: string;
  pid: number;
  stop(): Promise<void>;
}

function spawnServer(name: "storage" | "proxy" | "archive", args: string[]): Proc {
  const v8Flags = ["--max-semi-space-size=16", ...(perfRows ? ["--perf-basic-prof"] : [])];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      "--no-prompt",
      `--v8-flags=${v8Flags.join(",")}`,
      `${root}cmd/main.ts`,
      name,
      ...args,
    ],
    env: { DENO_NO_PACKAGE_JSON: "1", WALB_RUN_DIR: runDir },
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    name,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const exited = await Promise.race([child.status.then(() => true), sleep(10_000)]);
      if (!exited) {
        child.kill("SIGKILL");
        await child.status;
      }
    },
  };
}

// ---- data ------------------------------------------------------------------------------

/** The ddev before the device starts: first half random, second half compressible. */
function writeDdev(path: string): void {
  using file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(MiB);
  for (let offset = 0; offset < deviceBytes; offset += MiB) {
    if (offset < deviceBytes / 2) {
      for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
    } else {
      // Each 512-byte sector is one 32-byte pattern repeated (base-2M.img style).
      for (let sector = 0; sector < MiB / 512; sector++) {
        const seed = (offset / 512 + sector) * 2654435761;
        for (let i = 0; i < 512; i++) chunk[sector * 512 + i] = (seed >>> (i % 32)) + i % 32;
      }
    }
    for (let done = 0; done < MiB;) done += file.writeSync(chunk.subarray(done));
  }
}

const nbdUri = `nbd+unix:///?socket=${runDir}/${DEVICE}.nbd`;

/** fio through the device's NBD export; returns its write MB/s. */
async function fio(args: string[], timeoutMs: number): Promise<number> {
  const stdout = await run("fio", [
    "--name=bench",
    "--ioengine=nbd",
    `--uri=${nbdUri}`,
    `--size=${deviceBytes}`,
    "--buffer_compress_percentage=50",
    "--refill_buffers",
    "--output-format=json",
    ...args,
  ], timeoutMs);
  const job = JSON.parse(stdout.slice(stdout.indexOf("{"))).jobs[0];
  return job.write.bw_bytes / 1e6;
}

// ---- rows ------------------------------------------------------------------------------

interface Row {
  name: string;
  result: string;
  target: string;
  met: boolean | undefined;
  wallSeconds: number;
  cpu: string;
}
const rows: Row[] = [];

let procs: Proc[] = [];

function perfStart(row: string): (() => Promise<void>) | undefined {
  if (perfRows === undefined || !perfRows.test(row)) return undefined;
  const tag = row.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  const children = procs.map((proc) => {
    const data = `${dir}/perf-${tag}-${proc.name}.data`;
    const child = new Deno.Command("perf", {
      args: ["record", "-F", "499", "-g", "-o", data, "-p", String(proc.pid)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    return { proc, data, child };
  });
  return async () => {
    for (const { proc, data, child } of children) {
      child.kill("SIGINT");
      await child.status;
      const report = await new Deno.Command("perf", {
        args: ["report", "-i", data, "--no-children", "--stdio", "--percent-limit", "1"],
        stdout: "piped",
        stderr: "null",
      }).output();
      await Deno.writeFile(`${dir}/perf-${tag}-${proc.name}.txt`, report.stdout);
      console.error(`perf report: ${dir}/perf-${tag}-${proc.name}.txt`);
    }
  };
}

/** Runs one row's body, timing it and measuring every process's CPU use meanwhile. */
async function measureRow(
  name: string,
  body: () => Promise<Omit<Row, "name" | "wallSeconds" | "cpu">>,
): Promise<void> {
  if (selectedRows !== undefined && rows.length > 0 && !selectedRows.test(name)) {
    console.error(`row skipped: ${name}`);
    return;
  }
  console.error(`row: ${name}`);
  const before = procs.map((proc) => cpuSeconds(proc.pid));
  const waitBefore = procs.map((proc) => runQueueSeconds(proc.pid));
  const stopPerf = perfStart(name);
  const start = performance.now();
  let outcome;
  try {
    outcome = await body();
  } finally {
    await stopPerf?.();
  }
  const wallSeconds = (performance.now() - start) / 1000;
  const cpu = procs.map((proc, i) => {
    const used = cpuSeconds(proc.pid) - before[i]!;
    const waiting = (runQueueSeconds(proc.pid) - waitBefore[i]!) / wallSeconds * 100;
    return `${proc.name} ${used.toFixed(1)} (${waiting.toFixed(0)})`;
  }).join(", ");
  const row = { name, ...outcome, wallSeconds, cpu };
  rows.push(row);
  console.error(JSON.stringify(row));
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/**
 * How fast this host fills fresh page-cache pages: 512 MiB written by `dd` into a new file
 * (no sync). Why: on some VMs each new page costs ~10 µs of kernel time at times (measured
 * 0.4 GB/s against 10 GB/s over cached pages), which bounds every row that writes a new image;
 * the figure printed beside the results tells such a run apart from a slower build.
 */
function freshPageCacheProbe(): string {
  const probe = `${dir}/page-cache-probe`;
  const start = performance.now();
  const out = new Deno.Command("dd", {
    args: ["if=/dev/zero", `of=${probe}`, "bs=4M", "count=128", "status=none"],
  }).outputSync();
  const seconds = (performance.now() - start) / 1000;
  Deno.removeSync(probe);
  if (!out.success) return "host check failed (dd)";
  return `host check: 512 MiB buffered into a new file in ${seconds.toFixed(2)} s (${
    (512 * MiB / 1e9 / seconds).toFixed(1)
  } GB/s)`;
}

async function main(): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(runDir, { recursive: true });
  const ldev = `${dir}/bench.ldev`;
  const ddev = `${dir}/bench.ddev`;
  console.error(`writing the ${deviceBytes / MiB} MiB ddev`);
  writeDdev(ddev);
  const hostCheck = freshPageCacheProbe();
  console.error(hostCheck);
  await Deno.writeFile(ldev, new Uint8Array(0));
  await Deno.truncate(ldev, ldevBytes);
  await walb(["wdevc", "format-ldev", ldev, ddev, "-n", DEVICE, "-nd", "--backend", "user"]);
  await walb(["wdevc", "create-wdev", ldev, ddev, "-n", DEVICE, "--backend", "user"]);
  const devicePid = Number((await Deno.readTextFile(`${runDir}/${DEVICE}.pid`)).trim());
  const device: Proc = {
    name: "device",
    pid: devicePid,
    async stop() {
      await walb(["wdevc", "delete-wdev", `${runDir}/${DEVICE}`], 30_000).catch((error) => {
        console.error(`delete-wdev failed (${error}); killing pid ${devicePid}`);
        Deno.kill(devicePid, "SIGKILL");
      });
    },
  };
  procs = [device];
  const ports = { a0: freePort(), p0: freePort(), s0: freePort() };
  const a0 = new ServerConnectionParam("a0", "127.0.0.1", ports.a0, "archive");
  const p0 = new ServerConnectionParam("p0", "127.0.0.1", ports.p0, "proxy");
  const s0 = new ServerConnectionParam("s0", "127.0.0.1", ports.s0, "storage");
  const common = (name: string, port: number) => {
    const base = `${dir}/${name}`;
    Deno.mkdirSync(base, { recursive: true });
    return ["-p", String(port), "-b", base, "-id", name, "-l", `${dir}/${name}.log`];
  };
  const rss: string[] = [];
  try {
    procs.push(spawnServer("archive", [...common("a0", ports.a0), "-discard", "zero"]));
    procs.push(spawnServer("proxy", common("p0", ports.p0)));
    procs.push(
      spawnServer("storage", [
        ...common("s0", ports.s0),
        "-archive",
        `127.0.0.1:${ports.a0}`,
        "-proxy",
        `127.0.0.1:${ports.p0}`,
      ]),
    );
    const ctl = new Controller(new ServerLayout([s0], [p0], [a0]), {
      net: new DenoNet({ clock: realClock }),
      clock: realClock,
      pollIntervalMs: 50,
    });
    for (const server of [a0, p0, s0]) {
      await waitFor(`${server.name} up`, 30_000, 100, async () => {
        try {
          return await ctl.getHostType(server) === server.kind;
        } catch {
          return false;
        }
      });
    }
    const restorable = async (gid: bigint) => (await ctl.getRestorableGid(a0, VOL)).includes(gid);
    const waitRestorable = (gid: bigint, timeoutMs: number) =>
      waitFor(`gid ${gid} restorable`, timeoutMs, 20, () => restorable(gid));

    // 1. full backup
    await init(ctl, s0, VOL, `${runDir}/${DEVICE}`);
    await prepareBackup(ctl, s0, VOL);
    let gid0 = 0n;
    await measureRow(`full backup ${deviceBytes / MiB} MiB (half random), snappy`, async () => {
      const start = performance.now();
      await ctl.storageClient(s0).fullBackup(VOL);
      const gids = await waitFor(
        "first restorable gid",
        60_000 + deviceBytes / 1e5,
        50,
        async () => {
          const list = await ctl.getRestorableGid(a0, VOL);
          return list.length > 0 ? list : undefined;
        },
      );
      gid0 = gids.at(-1)!;
      const rate = mbps(deviceBytes, performance.now() - start);
      return { result: `${rate.toFixed(0)} MB/s`, target: "≥ 1000 MB/s", met: rate >= 1000 };
    });

    // 2. restore of a snapshot with 4 diffs
    await measureRow("restore of a snapshot with 4 diffs", async () => {
      const gids = [gid0];
      for (let k = 1; k <= 4; k++) {
        await fio([
          "--rw=randwrite",
          "--bs=64k",
          "--iodepth=16",
          `--io_size=${diffBytes}`,
          `--randseed=${k}`,
        ], 300_000);
        const gid = await snapshotNbk(ctl, s0, VOL);
        await waitRestorable(gid, 300_000);
        gids.push(gid);
      }
      for (let k = 1; k <= 4; k++) {
        const count = await ctl.getNumDiff(a0, VOL, gids[k - 1]!, gids[k]!);
        if (count > 1n) await merge(ctl, a0, VOL, gids[k - 1]!, gids[k]!, 300_000);
      }
      const count = await ctl.getNumDiff(a0, VOL, gid0, gids[4]!);
      const start = performance.now();
      await restore(ctl, a0, VOL, gids[4]!, 600_000);
      const rate = mbps(deviceBytes, performance.now() - start);
      await delRestored(ctl, a0, VOL, gids[4]!);
      return {
        result: `${rate.toFixed(0)} MB/s (${count} diffs)`,
        target: "≥ 603 MB/s",
        met: rate >= 603,
      };
    });

    // 3. lag at 50 MB/s
    await measureRow(`lag write → restorable at ${LAG_RATE_MBPS} MB/s`, async () => {
      const writer = fio([
        "--rw=write",
        "--bs=256k",
        "--iodepth=4",
        `--rate=${LAG_RATE_MBPS * 1e6}`,
        "--time_based",
        `--runtime=${lagSeconds}`,
      ], lagSeconds * 1000 + 60_000);
      let writing = true;
      const writerDone = writer.finally(() => writing = false);
      const lags: number[] = [];
      await sleep(LAG_INTERVAL_MS);
      while (writing) {
        const start = performance.now();
        const gid = await snapshotNbk(ctl, s0, VOL);
        await waitRestorable(gid, 60_000);
        lags.push((performance.now() - start) / 1000);
        await sleep(Math.max(0, LAG_INTERVAL_MS - (performance.now() - start)));
      }
      const rate = await writerDone;
      lags.sort((a, b) => a - b);
      const median = lags[Math.floor(lags.length / 2)] ?? NaN;
      const max = lags.at(-1) ?? NaN;
      return {
        result: `median ${median.toFixed(2)} s, max ${max.toFixed(2)} s over ${lags.length} ` +
          `snapshots (fio ${rate.toFixed(0)} MB/s)`,
        target: "≤ 2 s",
        met: max <= 2,
      };
    });

    // 4. sustained flow
    await measureRow(`sustained flow, ${flowBytes / MiB} MiB written`, async () => {
      const start = performance.now();
      const fioRate = await fio([
        "--rw=write",
        "--bs=1m",
        "--iodepth=4",
        `--io_size=${flowBytes}`,
      ], 600_000);
      const written = performance.now();
      const gid = await snapshotNbk(ctl, s0, VOL);
      await waitRestorable(gid, 600_000);
      const absorbed = mbps(flowBytes, performance.now() - start);
      return {
        result: `absorbed ${absorbed.toFixed(0)} MB/s (fio ${fioRate.toFixed(0)} MB/s, ` +
          `restorable ${((performance.now() - written) / 1000).toFixed(1)} s after the last write)`,
        target: "≥ 200 MB/s",
        met: absorbed >= 200,
      };
    });
  } finally {
    for (const proc of procs) {
      try {
        rss.push(`${proc.name} ${peakRssMiB(proc.pid).toFixed(0)}`);
      } catch (error) {
        rss.push(`${proc.name} ? (${error})`);
      }
    }
    // Storage first (it holds the device), then the device, then proxy and archive.
    for (const name of ["storage", "device", "proxy", "archive"]) {
      await procs.find((proc) => proc.name === name)?.stop().catch((error) =>
        console.error(`stopping ${name}: ${error}`)
      );
    }
  }
  console.log(`device ${deviceBytes / MiB} MiB, ldev ${ldevBytes / MiB} MiB; ${hostCheck}\n`);
  console.log(
    "| row | result | target | wall s | CPU s (runnable but waiting for a CPU, % of wall) |",
  );
  console.log("| --- | --- | --- | ---: | --- |");
  for (const row of rows) {
    const met = row.met === undefined ? "" : row.met ? " ✓" : " ✗";
    console.log(
      `| ${row.name} | ${row.result} | ${row.target}${met} | ${
        row.wallSeconds.toFixed(1)
      } | ${row.cpu} |`,
    );
  }
  console.log(`\npeak RSS (VmHWM) MiB: ${rss.join(", ")}`);
  if (!values.keep && perfRows === undefined) await Deno.remove(dir, { recursive: true });
}

/** Polls `check` every `intervalMs` until it returns a truthy value. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined | false>,
): Promise<T> {
  return await bounded(
    what,
    timeoutMs,
    (async () => {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        await sleep(intervalMs);
      }
      throw new Error(`timed out: ${what}`);
    })(),
  );
}

await main();
