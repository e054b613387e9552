/**
 * Userland WalB device benchmark: the same clients against our device (`walb wdevc
 * create-wdev`, a daemon logging every write to an ldev file and applying it to a ddev file)
 * and against `nbdkit file` on a copy of the same ddev.
 *
 * Rows: fio through its nbd engine (one connection): 1 MiB sequential writes and reads at
 * QD 4, 4 KiB random writes and reads at QD 32; nbdcopy of a random file in (with a final
 * flush) and out.
 *
 * Each row also gives the server's CPU time (user + system, from /proc/PID/stat) per GB moved,
 * which is steadier than throughput on a shared machine.
 *
 * Usage: deno run --allow-all bench/device.ts [--size-mib N] [--ldev-mib N] [--runtime-s N]
 *   [--dir DIR] [--only REGEX] [--tests REGEX] [--daemon-flags "FLAGS"]
 * --only picks targets ("walb", "nbdkit"), --tests picks rows ("randwrite", "nbdcopy").
 * --daemon-flags runs the walb daemon in the foreground (`walb wdevc run-daemon`) under
 * `deno run --allow-all FLAGS`, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or
 * "--v8-flags=--perf-basic-prof" for `perf record -p`.
 * Defaults: 256 MiB device, 1024 MiB ldev, 10 s fio runs, /var/tmp/walb-device-bench.
 * The ldev file is written in full first (allocated like the block device it stands for);
 * the ddevs stay sparse for both targets.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "size-mib": { type: "string", default: "256" },
    "ldev-mib": { type: "string", default: "1024" },
    "runtime-s": { type: "string", default: "10" },
    dir: { type: "string", default: "/var/tmp/walb-device-bench" },
    only: { type: "string", default: "" },
    tests: { type: "string", default: "" },
    "daemon-flags": { type: "string", default: "" },
  },
});
const MiB = 1 << 20;
const sizeBytes = Number(values["size-mib"]) * MiB;
const ldevBytes = Number(values["ldev-mib"]) * MiB;
const runtimeS = Number(values["runtime-s"]);
const dir = values.dir!;
const only = values.only ? new RegExp(values.only) : undefined;
const tests = values.tests ? new RegExp(values.tests) : undefined;
const daemonFlags = values["daemon-flags"] ? values["daemon-flags"].split(/\s+/) : undefined;
const root = new URL("..", import.meta.url).pathname;

function have(binary: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
    .outputSync().success;
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ seconds: number; stdout: string }> {
  const start = performance.now();
  const output = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const seconds = (performance.now() - start) / 1000;
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return { seconds, stdout: new TextDecoder().decode(output.stdout) };
}

interface Target {
  name: string;
  uri: string;
  /** The serving process (its CPU time is reported per row). */
  pid: number;
  stop(): Promise<void>;
}

/** User + system CPU time of process `pid` [s] (fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

async function waitForFile(path: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${path} did not appear`);
}

function walb(args: string[]) {
  return run(Deno.execPath(), ["run", "--allow-all", `${root}cmd/main.ts`, ...args], {
    WALB_RUN_DIR: `${dir}/run`,
    DENO_NO_PACKAGE_JSON: "1",
  });
}

/**
 * Creates `path` with `sizeBytes` of zeroes written and synced, so every block is allocated:
 * an ldev is a block device in real use, and O_DIRECT writes into a sparse file's holes pay
 * block allocation and unwritten-extent conversion (ext4-rsv-conversion, journal commits at
 * every fdatasync) that a disk never does.
 */
async function writeAllocated(path: string, sizeBytes: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const zeroes = new Uint8Array(4 * MiB);
    for (let offset = 0; offset < sizeBytes; offset += zeroes.length) {
      const chunk = zeroes.subarray(0, Math.min(zeroes.length, sizeBytes - offset));
      for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
    }
    await file.syncData();
  } finally {
    file.close();
  }
}

async function walbDevice(ddev: string): Promise<Target> {
  const ldev = `${dir}/bench.ldev`;
  await writeAllocated(ldev, ldevBytes);
  await walb(["wdevc", "format-ldev", ldev, ddev, "-n", "bench", "-nd", "--backend", "user"]);
  const uri = `nbd+unix:///?socket=${dir}/run/bench.nbd`;
  if (daemonFlags !== undefined) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        ...daemonFlags,
        `${root}cmd/main.ts`,
        "wdevc",
        "run-daemon",
        ldev,
        ddev,
        "-n",
        "bench",
        "--run-dir",
        `${dir}/run`,
      ],
      env: { DENO_NO_PACKAGE_JSON: "1" },
      stdout: "null",
    }).spawn();
    await waitForFile(`${dir}/run/bench.nbd`);
    return {
      name: "walb device",
      uri,
      pid: child.pid,
      async stop() {
        child.kill("SIGTERM");
        await child.status;
      },
    };
  }
  await walb(["wdevc", "create-wdev", ldev, ddev, "--backend", "user"]);
  const pid = Number((await Deno.readTextFile(`${dir}/run/bench.pid`)).trim());
  return {
    name: "walb device",
    uri,
    pid,
    async stop() {
      await walb(["wdevc", "delete-wdev", `${dir}/run/bench`]);
    },
  };
}

async function nbdkitFile(image: string): Promise<Target> {
  const socket = `${dir}/nbdkit.sock`;
  const pidFile = `${dir}/nbdkit.pid`;
  await Deno.remove(pidFile).catch(() => {});
  await run("nbdkit", ["-U", socket, "-P", pidFile, "file", image]);
  for (let tries = 0; tries < 100; tries++) {
    try {
      await Deno.stat(pidFile);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const pid = Number((await Deno.readTextFile(pidFile)).trim());
  return {
    name: "nbdkit file",
    uri: `nbd+unix:///?socket=${socket}`,
    pid,
    async stop() {
      Deno.kill(pid, "SIGTERM");
      for (let tries = 0; tries < 100; tries++) {
        try {
          Deno.kill(pid, "SIGCONT");
          await new Promise((resolve) => setTimeout(resolve, 50));
        } catch {
          return;
        }
      }
    },
  };
}

interface Row {
  target: string;
  test: string;
  value: string;
}
const rows: Row[] = [];

function report(target: string, test: string, value: string): void {
  rows.push({ target, test, value });
  console.log(`${target.padEnd(14)} ${test.padEnd(36)} ${value}`);
}

/** The server's CPU time per GB moved, for a row's value. */
function cpuPerGb(cpuS: number, bytes: number): string {
  return `cpu ${(cpuS / (bytes / 1e9)).toFixed(2)} s/GB`;
}

async function nbdcopyRows(target: Target, input: string): Promise<void> {
  let cpuStart = cpuSeconds(target.pid);
  const copyIn = await run("nbdcopy", ["--flush", input, target.uri]);
  const cpuIn = cpuSeconds(target.pid) - cpuStart;
  report(
    target.name,
    `nbdcopy ${sizeBytes / MiB} MiB in`,
    `${mbps(copyIn.seconds)}, ${cpuPerGb(cpuIn, sizeBytes)}`,
  );
  cpuStart = cpuSeconds(target.pid);
  const copyOut = await run("nbdcopy", [target.uri, "null:"]);
  const cpuOut = cpuSeconds(target.pid) - cpuStart;
  report(
    target.name,
    `nbdcopy ${sizeBytes / MiB} MiB out`,
    `${mbps(copyOut.seconds)}, ${cpuPerGb(cpuOut, sizeBytes)}`,
  );
}

function mbps(seconds: number): string {
  return `${(sizeBytes / 1e6 / seconds).toFixed(0)} MB/s`;
}

const FIO_JOBS = [
  { rw: "write", bs: "1m", depth: 4, label: "fio write 1 MiB QD 4" },
  { rw: "read", bs: "1m", depth: 4, label: "fio read 1 MiB QD 4" },
  { rw: "randwrite", bs: "4k", depth: 32, label: "fio randwrite 4 KiB QD 32" },
  { rw: "randread", bs: "4k", depth: 32, label: "fio randread 4 KiB QD 32" },
] as const;

async function fioRows(target: Target): Promise<void> {
  for (const job of FIO_JOBS) {
    if (tests !== undefined && !tests.test(job.label)) continue;
    const cpuStart = cpuSeconds(target.pid);
    const { stdout } = await run("fio", [
      "--name=nbd",
      "--ioengine=nbd",
      `--uri=${target.uri}`,
      `--rw=${job.rw}`,
      `--bs=${job.bs}`,
      `--iodepth=${job.depth}`,
      `--size=${sizeBytes}`,
      "--time_based",
      `--runtime=${runtimeS}`,
      "--output-format=json",
    ]);
    const cpuS = cpuSeconds(target.pid) - cpuStart;
    const result = JSON.parse(stdout.slice(stdout.indexOf("{"))).jobs[0];
    const side = job.rw.includes("write") ? result.write : result.read;
    const p99 = side.clat_ns.percentile?.["99.000000"];
    report(
      target.name,
      job.label,
      `${Math.round(side.iops)} IOPS (${(side.bw_bytes / 1e6).toFixed(0)} MB/s, p99 ${
        p99 === undefined ? "?" : (p99 / 1000).toFixed(0)
      } µs, ${cpuPerGb(cpuS, side.io_bytes)})`,
    );
  }
}

async function main(): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const input = `${dir}/input.img`;
  const data = new Uint8Array(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 65536) {
    crypto.getRandomValues(data.subarray(offset, offset + 65536));
  }
  await Deno.writeFile(input, data);
  const ddev = `${dir}/walb.ddev`;
  const copy = `${dir}/nbdkit.ddev`;
  for (const path of [ddev, copy]) {
    await Deno.writeFile(path, new Uint8Array(0));
    await Deno.truncate(path, sizeBytes);
  }
  const makers: [string, () => Promise<Target>][] = [["walb device", () => walbDevice(ddev)]];
  if (have("nbdkit")) makers.push(["nbdkit file", () => nbdkitFile(copy)]);
  else console.log("skip: nbdkit not installed");
  const withFio = have("fio");
  if (!withFio) console.log("skip: fio not installed");
  console.log(`device ${sizeBytes / MiB} MiB, ldev ${ldevBytes / MiB} MiB, fio ${runtimeS} s`);
  for (const [name, make] of makers) {
    if (only !== undefined && !only.test(name)) continue;
    const target = await make();
    try {
      if (have("nbdcopy") && (tests === undefined || tests.test("nbdcopy"))) {
        await nbdcopyRows(target, input);
      }
      if (withFio) await fioRows(target);
    } finally {
      await target.stop();
    }
  }
  console.log("\n| target | test | result |\n|---|---|---|");
  for (const row of rows) console.log(`| ${row.target} | ${row.test} | ${row.value} |`);
  await Deno.remove(dir, { recursive: true });
}

await main();
