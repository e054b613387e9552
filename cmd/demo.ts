/**
 * `walb demo`: a narrated, self-contained run of the offline pipeline on generated data:
 * wlog-gen → wlog-to-wdiff → wdiff-merge → wdiff-redo / wlog-redo / virt-full-cat → sha1
 * check. Every path must give the same image. (The backup-group demo replaces it later.)
 *
 * @module
 */
import { createHash } from "node:crypto";
import { MemorySink, MemorySource } from "../lib/io/stream.ts";
import { type Command, type CommandIo, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";

function parser(): OptionParser {
  const p = new OptionParser("demo", {
    description: "demo: generate wlogs, convert, merge, apply and verify the images agree.",
  });
  p.option("dir", "string", "DIR: work directory (default: a new temporary directory)", {
    default: "",
  });
  p.option("s", "u64", "SIZE: device size [byte]. (default: 64M)", { default: "64M" });
  p.option("z", "u64", "SIZE: log size per wlog [byte]. (default: 8M)", { default: "8M" });
  p.option("n", "u32", "N: number of wlogs. (default: 3)", { default: "3" });
  p.option("seed", "u32", "N: random seed. (default: 1)", { default: "1" });
  p.flag("keep", ": keep the work directory.");
  return p;
}

async function sha1File(path: string): Promise<string> {
  const hash = createHash("sha1");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Runs `walb <name> args` in-process; returns its captured output or throws with it. */
async function step(out: TextOut, name: string, args: string[]): Promise<string> {
  const { loadCommand } = await import("./main.ts");
  const command = await loadCommand(name);
  if (command === undefined) throw new Error(`command ${name} is not available`);
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const io: CommandIo = { stdin: new MemorySource(new Uint8Array()), stdout, stderr };
  out.line(`$ walb ${name} ${args.join(" ")}`);
  await out.flush();
  const code = await command.run(args, io);
  if (code !== 0) {
    throw new Error(`walb ${name} exited ${code}:\n${stdout.text()}${stderr.text()}`);
  }
  return stdout.text() + stderr.text();
}

async function fileSize(path: string): Promise<number> {
  return (await Deno.stat(path)).size;
}

export const command: Command = {
  name: "demo",
  summary: "narrated demo: generate, convert, merge, apply, verify",
  run: (args, io) =>
    runTool("demo", io, async ({ out }) => {
      const opts = parser().parse(args);
      const dir = opts.str("dir") !== ""
        ? opts.str("dir")
        : await Deno.makeTempDir({ prefix: "walb-demo-" });
      await Deno.mkdir(dir, { recursive: true });
      const sizeBytes = opts.num("s");
      const count = opts.num("n");
      const seed = opts.num("seed");
      const path = (name: string) => `${dir}/${name}`;
      out.line(`walb demo in ${dir}: device ${sizeBytes} bytes, ${count} wlogs`);

      out.line("\n1. Generate wlogs (random writes, discards, all-zero blocks) with wlog-gen.");
      const wlogs: string[] = [];
      for (let k = 1; k <= count; k++) {
        const wlog = path(`w${k}.wlog`);
        await step(out, "wlog-gen", [
          "-s",
          String(sizeBytes),
          "-z",
          opts.str("z"),
          "--rand",
          "--seed",
          String(seed * 1000 + k),
          "-o",
          wlog,
        ]);
        wlogs.push(wlog);
        out.line(`   ${wlog}: ${await fileSize(wlog)} bytes`);
      }

      out.line("\n2. Convert each wlog to a wdiff (sorted, snappy) with wlog-to-wdiff.");
      const wdiffs: string[] = [];
      for (const wlog of wlogs) {
        const wdiff = wlog.replace(/\.wlog$/, ".wdiff");
        await step(out, "wlog-to-wdiff", ["-i", wlog, "-o", wdiff]);
        wdiffs.push(wdiff);
        out.line(`   ${wdiff}: ${await fileSize(wdiff)} bytes`);
      }

      out.line("\n3. Merge the wdiffs, oldest first, into one (zstd) with wdiff-merge.");
      const merged = path("merged.wdiff");
      await step(out, "wdiff-merge", ["-cmpr", "zstd:0:1", "-i", ...wdiffs, "-o", merged]);
      out.line(`   ${merged}: ${await fileSize(merged)} bytes`);

      out.line("\n4. Build the same image three ways from an all-zero base image.");
      const base = path("base.img");
      await Deno.writeFile(base, new Uint8Array());
      await Deno.truncate(base, sizeBytes);
      const images = {
        "wlog-redo of each wlog": path("by-wlog.img"),
        "wdiff-redo of the merged wdiff": path("by-merged.img"),
        "virt-full-cat of base + wdiffs": path("by-virt.img"),
      };
      await Deno.copyFile(base, images["wlog-redo of each wlog"]);
      for (const wlog of wlogs) {
        await step(out, "wlog-redo", ["-z", "-i", wlog, images["wlog-redo of each wlog"]]);
      }
      await Deno.copyFile(base, images["wdiff-redo of the merged wdiff"]);
      await step(out, "wdiff-redo", [
        "-z",
        "-i",
        merged,
        images["wdiff-redo of the merged wdiff"],
      ]);
      await step(out, "virt-full-cat", [
        "-i",
        base,
        "-d",
        ...wdiffs,
        "-o",
        images["virt-full-cat of base + wdiffs"],
      ]);

      out.line("\n5. Verify: every image must have the same sha1.");
      const sums = new Set<string>();
      for (const [how, image] of Object.entries(images)) {
        const sum = await sha1File(image);
        sums.add(sum);
        out.line(`   ${sum}  ${how}`);
      }
      const ok = sums.size === 1;
      out.line(ok ? "\nOK: all images agree." : "\nFAILED: the images differ.");
      if (!opts.bool("keep") && opts.str("dir") === "") await Deno.remove(dir, { recursive: true });
      return ok ? 0 : 1;
    }),
};
