/**
 * `deno task bench`: whole-process benchmarks of the offline tools on a generated workload,
 * optionally side by side with the original walb-tools binaries (WALB_TOOLS_BIN=dir).
 *
 * Workload (issue #3): 2 GiB device, 4 wlogs of 256 MiB (two with random data, two with
 * almost-zero data), max IO 64 KiB, max discard 1 MiB. Rows: wlog-to-wdiff (sorted, indexed),
 * wdiff-merge of the four to each codec, wdiff-redo, virt-full-cat. Each row: median MB/s
 * over N runs (input bytes / wall seconds) and peak RSS (GNU time's maximum resident set).
 *
 * Usage: deno run --allow-all bench/run.ts [--runs N] [--scale F] [--dir DIR] [--only REGEX]
 *   [--baseline CHECKOUT]
 *   --scale 0.125 makes every size 8x smaller (a quick look); the default is 1.
 *   --baseline runs another checkout's `walb` (e.g. a `git worktree` of an older commit) on the
 *   same files, alternating with ours run by run, and adds its MB/s, CPU seconds and peak RSS:
 *   a before/after comparison that stays fair on a machine shared with other jobs.
 * Afterwards `deno bench` runs the in-process micro benchmarks (codecs, checksums).
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    scale: { type: "string", default: "1" },
    dir: { type: "string", default: "/var/tmp/walb-bench" },
    only: { type: "string", default: "" },
    "no-micro": { type: "boolean", default: false },
    baseline: { type: "string", default: "" },
  },
});
const runs = Number(values.runs);
const scale = Number(values.scale);
const dir = values.dir!;
const only = values.only ? new RegExp(values.only) : undefined;
const originalBin = Deno.env.get("WALB_TOOLS_BIN");
const root = new URL("..", import.meta.url).pathname;
const walb = `${root}walb`;
const baselineWalb = values.baseline ? `${values.baseline.replace(/\/$/, "")}/walb` : undefined;
const MiB = 1 << 20;

interface Measure {
  wallSeconds: number;
  /** User + system CPU seconds (all threads): less sensitive than wall time to other load. */
  cpuSeconds: number;
  userSeconds: number;
  /** System CPU seconds: page-cache and page-fault work, which this VM's host slows at times. */
  systemSeconds: number;
  maxRssKiB: number;
}

async function timed(argv: string[]): Promise<Measure> {
  const output = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M %U %S", ...argv],
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stderr).trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const [wall, rss, user, system] = last.split(" ").map(Number);
  if (
    !output.success || wall === undefined || rss === undefined || user === undefined ||
    system === undefined || Number.isNaN(wall)
  ) {
    throw new Error(`failed: ${argv.join(" ")}\n${lines.join("\n")}`);
  }
  return {
    wallSeconds: wall,
    cpuSeconds: user + system,
    userSeconds: user,
    systemSeconds: system,
    maxRssKiB: rss,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function sizeOf(paths: string[]): Promise<number> {
  let total = 0;
  for (const path of paths) total += (await Deno.stat(path)).size;
  return total;
}

interface Row {
  name: string;
  /** The original's published MB/s for this row (issue #3), if any. */
  referenceMbps?: number;
  /** Required ours/original ratio (1.0, or 1.3 on compression-bound merges). */
  targetRatio?: number;
  /** Peak RSS limit [MiB]. */
  rssLimitMiB?: number;
  /** argv after the tool name; `{bin}` is replaced per implementation. */
  tool: string;
  args: string[];
  inputs: string[];
  before?: () => Promise<void>;
  runs?: number;
}

type Implementation = "ours" | "original" | "baseline";

function toolArgv(implementation: Implementation, tool: string, args: string[]): string[] {
  if (implementation === "original") return [`${originalBin}/${tool}`, ...args];
  return [implementation === "ours" ? walb : baselineWalb!, tool, ...args];
}

interface Summary {
  mbps: number;
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  wallSeconds: number;
  rssMiB: number;
}

/** Runs the row with each implementation in turn, `runs` times (alternating). */
async function measureAlternating(
  row: Row,
  implementations: Implementation[],
): Promise<Summary[]> {
  const n = row.runs ?? runs;
  const samples = implementations.map(() => ({
    walls: [] as number[],
    cpus: [] as number[],
    users: [] as number[],
    systems: [] as number[],
    rss: [] as number[],
  }));
  for (let i = 0; i < n; i++) {
    for (const [k, implementation] of implementations.entries()) {
      if (row.before) await row.before();
      const m = await timed(toolArgv(implementation, row.tool, row.args));
      samples[k]!.walls.push(m.wallSeconds);
      samples[k]!.cpus.push(m.cpuSeconds);
      samples[k]!.users.push(m.userSeconds);
      samples[k]!.systems.push(m.systemSeconds);
      samples[k]!.rss.push(m.maxRssKiB);
    }
  }
  const bytes = await sizeOf(row.inputs);
  return samples.map(({ walls, cpus, users, systems, rss }) => ({
    mbps: bytes / 1e6 / median(walls),
    cpuSeconds: median(cpus),
    userSeconds: median(users),
    systemSeconds: median(systems),
    wallSeconds: median(walls),
    rssMiB: Math.max(...rss) / 1024,
  }));
}

async function measure(row: Row, implementation: Implementation): Promise<Summary> {
  return (await measureAlternating(row, [implementation]))[0]!;
}

async function generate(): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const deviceBytes = Math.round(2048 * MiB * scale);
  const wlogBytes = Math.round(256 * MiB * scale);
  const wlogs: string[] = [];
  for (let k = 1; k <= 4; k++) {
    const path = `${dir}/w${k}.wlog`;
    wlogs.push(path);
    try {
      await Deno.stat(path);
      continue;
    } catch { /* generate it */ }
    const random = k <= 2 ? ["--rand"] : [];
    const argv = [walb, "wlog-gen", "-s", String(deviceBytes), "-z", String(wlogBytes)];
    argv.push("--maxIoSize", "64K", "--maxDiscardSize", "1M", ...random, "--seed", String(k));
    argv.push("-o", path);
    console.error(`generating ${path}`);
    const status = await new Deno.Command(argv[0]!, { args: argv.slice(1) }).spawn().status;
    if (!status.success) throw new Error(`wlog-gen failed for ${path}`);
  }
  return wlogs;
}

async function main(): Promise<void> {
  const wlogs = await generate();
  const deviceBytes = Math.round(2048 * MiB * scale);
  const sorted = wlogs.map((w) => w.replace(/\.wlog$/, ".sorted.wdiff"));
  const indexed = wlogs.map((w) => w.replace(/\.wlog$/, ".indexed.wdiff"));
  // Inputs of the later rows are made once, by our tools.
  for (let k = 0; k < 4; k++) {
    for (const [out, extra] of [[sorted[k]!, []], [indexed[k]!, ["-indexed"]]] as const) {
      try {
        await Deno.stat(out);
      } catch {
        await timed([walb, "wlog-to-wdiff", ...extra, "-i", wlogs[k]!, "-o", out]);
      }
    }
  }
  const mergedSnappy = `${dir}/merged-snappy.wdiff`;
  try {
    await Deno.stat(mergedSnappy);
  } catch {
    await timed([walb, "wdiff-merge", "-i", ...sorted, "-o", mergedSnappy]);
  }
  const base = `${dir}/base.img`;
  const target = `${dir}/target.img`;
  const resetTarget = async () => {
    await Deno.writeFile(target, new Uint8Array());
    await Deno.truncate(target, deviceBytes);
  };
  await Deno.writeFile(base, new Uint8Array());
  await Deno.truncate(base, deviceBytes);
  const rows: Row[] = [];
  for (const [k, wlog] of wlogs.entries()) {
    const kind = k < 2 ? "random" : "almost-zero";
    // The original's 559–625 MB/s is for random data; we compare with the low end.
    const reference = k < 2 ? { referenceMbps: 559, targetRatio: 1 } : {};
    rows.push({
      ...reference,
      rssLimitMiB: 270, // 1.5 × the original's 180 MiB: the sorted conversion holds the diff
      name: `wlog-to-wdiff sorted w${k + 1} (${kind})`,
      tool: "wlog-to-wdiff",
      args: ["-i", wlog, "-o", `${dir}/out.wdiff`],
      inputs: [wlog],
    });
    rows.push({
      ...reference,
      rssLimitMiB: 256,
      name: `wlog-to-wdiff indexed w${k + 1} (${kind})`,
      tool: "wlog-to-wdiff",
      args: ["-indexed", "-i", wlog, "-o", `${dir}/out.wdiff`],
      inputs: [wlog],
    });
  }
  const mergeReference: Record<string, number> = {
    snappy: 1135,
    gzip: 145,
    lzma: 10.9,
    zstd: 1382,
  };
  for (const codec of ["none", "snappy", "gzip", "lzma", "lz4", "zstd"]) {
    const numCpu = ["zstd", "gzip", "lzma"].includes(codec) ? 2 : 1;
    const referenceMbps = mergeReference[codec];
    rows.push({
      ...(referenceMbps === undefined ? {} : { referenceMbps, targetRatio: numCpu > 1 ? 1.3 : 1 }),
      rssLimitMiB: 256,
      name: `wdiff-merge 4 sorted -> ${codec}:0:${numCpu}`,
      tool: "wdiff-merge",
      args: ["-cmpr", `${codec}:0:${numCpu}`, "-i", ...sorted, "-o", `${dir}/merged.wdiff`],
      inputs: sorted,
      ...(codec === "lzma" ? { runs: Math.min(runs, 1) } : {}),
    });
  }
  rows.push({
    referenceMbps: 589, // the low end of the original's 589–706 MB/s
    targetRatio: 1,
    rssLimitMiB: 256,
    name: "wdiff-redo -z of the merged (snappy) wdiff",
    tool: "wdiff-redo",
    args: ["-z", "-i", mergedSnappy, target],
    inputs: [mergedSnappy],
    before: resetTarget,
  });
  rows.push({
    referenceMbps: 603,
    targetRatio: 1,
    rssLimitMiB: 256,
    name: "virt-full-cat base + 4 sorted",
    tool: "virt-full-cat",
    args: ["-i", base, "-d", ...sorted, "-o", `${dir}/virt.img`],
    inputs: [base],
  });

  const header = originalBin
    ? "| row | ours MB/s | ours peak RSS MiB | original MB/s | original peak RSS MiB | ours/original |"
    : "| row | MB/s | wall s | CPU s (user+sys) | peak RSS MiB (limit) | original's published MB/s | ratio (target) |" +
      (baselineWalb ? " baseline MB/s | baseline CPU s (user+sys) | baseline peak RSS MiB |" : "");
  console.log(header);
  console.log(header.replace(/[^|]+/g, "---"));
  const mbpsText = (mbps: number) => mbps < 100 ? mbps.toFixed(1) : mbps.toFixed(0);
  // Medians of each: user + sys need not add up to the median total.
  const cpuText = (s: Summary) =>
    `${s.cpuSeconds.toFixed(2)} (${s.userSeconds.toFixed(2)}+${s.systemSeconds.toFixed(2)})`;
  for (const row of rows) {
    if (only && !only.test(row.name)) continue;
    const [ours, baseline] = baselineWalb
      ? await measureAlternating(row, ["ours", "baseline"])
      : [await measure(row, "ours"), undefined];
    if (ours === undefined) continue;
    if (originalBin) {
      const original = await measure(row, "original");
      console.log(
        `| ${row.name} | ${mbpsText(ours.mbps)} | ${ours.rssMiB.toFixed(0)} | ${
          mbpsText(original.mbps)
        } | ${original.rssMiB.toFixed(0)} | ${(ours.mbps / original.mbps).toFixed(2)} |`,
      );
    } else {
      // No original binaries here: compare with the figures published in issue #3.
      const limit = row.rssLimitMiB === undefined ? "" : ` (≤ ${row.rssLimitMiB})`;
      const reference = row.referenceMbps === undefined ? "—" : mbpsText(row.referenceMbps);
      const ratio = row.referenceMbps === undefined
        ? "—"
        : `${(ours.mbps / row.referenceMbps).toFixed(2)} (≥ ${row.targetRatio?.toFixed(1)})`;
      const baselineText = baseline === undefined
        ? ""
        : ` ${mbpsText(baseline.mbps)} | ${cpuText(baseline)} | ${baseline.rssMiB.toFixed(0)} |`;
      console.log(
        `| ${row.name} | ${mbpsText(ours.mbps)} | ${ours.wallSeconds.toFixed(2)} | ${
          cpuText(ours)
        } | ${ours.rssMiB.toFixed(0)}${limit} | ${reference} | ${ratio} |${baselineText}`,
      );
    }
  }
  if (!values["no-micro"]) {
    await new Deno.Command(Deno.execPath(), { args: ["bench", "--allow-all", root] }).spawn()
      .status;
  }
}

await main();
