/**
 * `--progress`: the drawn line on a fake terminal, nothing without a terminal, and the tools'
 * `-h` texts equal to offline-tools.md Appendix A plus the one added last line.
 *
 * @module
 */
import { MemorySink, MemorySource } from "../lib/io/stream.ts";
import { assert, assertEquals } from "../lib/testing/assert.ts";
import type { Command, CommandIo } from "./command.ts";
import {
  countingSink,
  countingSource,
  formatProgress,
  PROGRESS_INTERVAL_MS,
  startProgress,
  type TerminalSink,
} from "./progress.ts";

/** A terminal that records what is drawn. */
class FakeTerminal implements TerminalSink {
  text = "";
  writes = 0;
  constructor(readonly terminal = true) {}
  isTerminal(): boolean {
    return this.terminal;
  }
  writeSync(bytes: Uint8Array): number {
    this.text += new TextDecoder().decode(bytes);
    this.writes++;
    return bytes.length;
  }
}

Deno.test("startProgress() draws one updating line at most five times a second", () => {
  const terminal = new FakeTerminal();
  let now = 1000;
  const progress = startProgress(true, terminal, { totalBytes: 10e6, nowMs: () => now });
  progress.add(1e6); // at once: too early to draw
  assertEquals(terminal.writes, 0);
  now += PROGRESS_INTERVAL_MS - 1;
  progress.add(1e6);
  assertEquals(terminal.writes, 0);
  now += 1;
  progress.add(1e6); // 3 MB after 0.2 s
  assertEquals(terminal.text, "\r3.0/10.0 MB (30%) 15.0 MB/s 0.2 s");
  now += 10;
  progress.add(1e6);
  assertEquals(terminal.writes, 1);
  now += 1790; // 2 s in
  progress.add(6e6);
  progress.finish();
  const lines = terminal.text.split("\r");
  assertEquals(lines.at(-1), "10.0/10.0 MB (100%) 5.0 MB/s 2.0 s\n");
  assertEquals(terminal.text.split("\n").length, 2, "one line, one final newline");
  progress.finish();
  assertEquals(terminal.text.split("\n").length, 2, "finish() twice ends the line once");
});

Deno.test("startProgress() pads over a longer previous line", () => {
  const terminal = new FakeTerminal();
  let now = 0;
  const progress = startProgress(true, terminal, { nowMs: () => now });
  now = 200;
  progress.add(123_456_789_000);
  progress.setTotal(0);
  now = 400_000;
  progress.finish();
  const [, first, last] = terminal.text.split("\r");
  assertEquals(last!.trimEnd().length < first!.length, true);
  assertEquals(last!.length, first!.length + 1, "padded to the previous length, then newline");
});

Deno.test("startProgress() draws nothing without --progress or without a terminal", async () => {
  const pipe = new FakeTerminal(false);
  const tty = new FakeTerminal(true);
  for (const [enabled, sink] of [[true, pipe], [false, tty], [true, new MemorySink()]] as const) {
    const progress = startProgress(enabled, sink, { totalBytes: 100, nowMs: () => 1e9 });
    progress.add(50);
    progress.finish();
    // The wrappers are the identity when nothing is drawn.
    const source = new MemorySource(new Uint8Array(4));
    assert(countingSource(source, progress) === source, "source wrapped for nothing");
    const memory = new MemorySink();
    assert(countingSink(memory, progress) === memory, "sink wrapped for nothing");
    await memory.write(new Uint8Array(1));
  }
  assertEquals([pipe.writes, tty.writes], [0, 0]);
});

Deno.test("countingSource() and countingSink() count every byte", async () => {
  const terminal = new FakeTerminal();
  let now = 0;
  const progress = startProgress(true, terminal, { nowMs: () => now });
  const source = countingSource(new MemorySource(new Uint8Array(3000)), progress);
  const buffer = new Uint8Array(1024);
  while ((await source.read(buffer)) !== null) now += 0;
  const sink = countingSink(new MemorySink(), progress);
  await sink.write(new Uint8Array(1000));
  now = 1000;
  progress.finish();
  assertEquals(terminal.text, "\r0.0 MB 0.0 MB/s 1.0 s\n");
  assertEquals(formatProgress(4000, undefined, 1000), "0.0 MB 0.0 MB/s 1.0 s");
});

/** The code blocks of Appendix A, keyed by the tool name of their usage line. */
async function appendixA(): Promise<Map<string, string>> {
  const spec = await Deno.readTextFile(
    new URL("../../shared/spec/offline-tools.md", import.meta.url),
  );
  const appendix = spec.slice(spec.indexOf("## Appendix A"));
  const blocks = new Map<string, string>();
  for (const match of appendix.matchAll(/```\n([\s\S]*?)```/g)) {
    const text = match[1]!;
    const name = /(?:usage:|Usage: )([\w-]+)/.exec(text)?.[1];
    if (name !== undefined) blocks.set(name, text);
  }
  return blocks;
}

async function helpOf(command: Command): Promise<string> {
  const stdout = new MemorySink();
  const io: CommandIo = { stdin: new MemorySource(new Uint8Array()), stdout, stderr: stdout };
  assertEquals(await command.run(["-h"], io), 0);
  return stdout.text();
}

const TOOLS = [
  "wlog-to-wdiff",
  "wdiff-merge",
  "wdiff-redo",
  "virt-full-cat",
  "wdiff-full",
  "wlog-redo",
  "wlog-gen",
  "wlog-cat",
  "wlog-restore",
  "wdev-redo",
];

for (const name of TOOLS) {
  Deno.test(`${name} -h is the original text plus the --progress line`, async () => {
    const appendix = await appendixA();
    const module = await import(`./${name.replaceAll("-", "_")}.ts`);
    const help = await helpOf(module.command as Command);
    const lines = help.split("\n");
    const last = lines.findLastIndex((line) => line !== "");
    assert(
      /^ {2}--progress(: | : )show progress on stderr \(TTY only\)\.$/i.test(lines[last]!),
      help,
    );
    lines.splice(last, 1);
    // wlog-gen's --seed and --original-sizes are older extension lines, just before --progress.
    const original = lines.filter((line) =>
      !line.startsWith("  --seed ") && !line.startsWith("  --original-sizes ")
    ).join("\n");
    const expected = appendix.get(name);
    assert(expected !== undefined, `Appendix A has ${name}`);
    assertEquals(original, expected);
  });
}

Deno.test("ProgressLine.clear() erases the drawn line for a log line", () => {
  const terminal = new FakeTerminal();
  let now = 0;
  const progress = startProgress(true, terminal, { totalBytes: 2e6, nowMs: () => now });
  progress.clear(); // nothing drawn yet: nothing to erase
  assertEquals(terminal.writes, 0);
  now = 500;
  progress.add(1e6);
  const drawn = terminal.text.length - 1;
  progress.clear();
  assertEquals(terminal.text.slice(drawn + 1), `\r${" ".repeat(drawn)}\r`);
  progress.finish();
  assert(terminal.text.endsWith("2.0 MB/s 0.5 s\n"), terminal.text);
});
