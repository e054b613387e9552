/**
 * AC-48 up to apply, as an operator runs it (docs/tutorial.md): a userland device made with
 * `./walb wdevc`, `./walb archive|proxy|storage` started as processes, then only `./walbc`
 * commands — init, full backup, write, snapshot, restore, merge, apply — with writes and
 * reads through the device's NBD socket by `nbdcopy` (libnbd) and sha1 by `sha1sum`, as in
 * the tutorial. Without nbdcopy the writes and reads go through the test harness instead.
 *
 * WALB_TUTORIAL_TRANSCRIPT=FILE writes every command and its output to FILE.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { deviceSha1, fileSha1, writeThroughNbd } from "../../lib/testing/harness.ts";
import { freePort, REPO } from "./group_fixture.ts";

const DECODER = new TextDecoder();

async function hasCommand(name: string): Promise<boolean> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .output();
  return out.success;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs shell commands the way the tutorial shows them, keeping a transcript. */
class Operator {
  readonly transcript: string[] = [];
  constructor(readonly cwd: string, readonly env: Record<string, string>) {}

  /** Runs `line` with sh; returns stdout (trimmed); throws on a non-zero exit. */
  async run(line: string, options: { quiet?: boolean } = {}): Promise<string> {
    const out = await new Deno.Command("sh", {
      args: ["-c", line],
      cwd: this.cwd,
      env: this.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = DECODER.decode(out.stdout).trimEnd();
    if (options.quiet !== true) {
      this.transcript.push(`$ ${line}`);
      if (stdout !== "") this.transcript.push(stdout);
    }
    if (!out.success) {
      throw new Error(`${line} failed (${out.code}): ${DECODER.decode(out.stderr)}`);
    }
    return stdout;
  }

  /** Polls `line` (not in the transcript) until `done(stdout)`, then records the last run. */
  async waitFor(line: string, done: (stdout: string) => boolean, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stdout = await this.run(line, { quiet: true }).catch(() => "");
      if (done(stdout)) {
        this.transcript.push(`$ ${line}`, stdout);
        return stdout;
      }
      if (Date.now() > deadline) throw new Error(`timed out: ${line}: last output ${stdout}`);
      await sleep(200);
    }
  }
}

/** Kills what the test started (servers, the device daemon) if still running. */
async function cleanUp(children: Deno.ChildProcess[], daemonPidPath: string): Promise<void> {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // exited
    }
    await child.status;
  }
  const pid = Number((await Deno.readTextFile(daemonPidPath).catch(() => "")).trim());
  if (pid > 0) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

Deno.test({
  name:
    "AC-48 the tutorial flow with walbc commands: init, full backup, snapshot, restore, merge, apply",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "walb-tutorial-" });
    const useNbdcopy = await hasCommand("nbdcopy");
    const op = new Operator(REPO, { WALB_RUN_DIR: `${root}/run`, PATH: Deno.env.get("PATH")! });
    const ports = { s0: freePort(), p0: freePort(), a0: freePort() };
    const children: Deno.ChildProcess[] = [];
    const walbc = (server: keyof typeof ports, words: string) =>
      `./walbc -a localhost -p ${ports[server]} ${words}`;
    try {
      // The device: a log file and a data file, formatted and started in userland.
      await op.run(
        `mkdir -p ${root}/run && cd ${root} && truncate -s 16M wlog && ` +
          `truncate -s 12M wdata`,
      );
      await op.run(
        `./walb wdevc format-ldev ${root}/wlog ${root}/wdata -n tutorial --backend user`,
      );
      const created = await op.run(
        `./walb wdevc create-wdev ${root}/wlog ${root}/wdata -n tutorial --backend user`,
      );
      const wdev = /^path (.*)$/m.exec(created)![1]!;
      const nbdUri = /^nbd (.*)$/m.exec(created)![1]!;
      const nbd = { unixPath: `${wdev}.nbd` };

      // The servers, as detached processes.
      const start = (line: string) => {
        op.transcript.push(`$ ${line} &`);
        children.push(
          new Deno.Command("sh", {
            args: ["-c", `exec ${line}`],
            cwd: REPO,
            env: op.env,
            stdin: "null",
            stdout: "null",
            stderr: "null",
          }).spawn(),
        );
      };
      for (const name of ["a0", "p0", "s0"]) await Deno.mkdir(`${root}/${name}`);
      start(
        `./walb archive -p ${ports.a0} -b ${root}/a0 -id a0 -l a0.log -fg 2 -discard zero`,
      );
      start(`./walb proxy -p ${ports.p0} -b ${root}/p0 -id p0 -l p0.log -fg 2 -bg 1`);
      start(
        `./walb storage -p ${ports.s0} -b ${root}/s0 -id s0 -l s0.log -fg 2 -bg 1 ` +
          `-archive localhost:${ports.a0} -proxy localhost:${ports.p0} -snapintvl 1`,
      );
      for (const name of ["a0", "p0", "s0"] as const) {
        await op.waitFor(walbc(name, "get host-type"), (out) => out !== "", 30_000);
      }

      // init_storage: s0 Standby, p0 and a0 Clear.
      await op.run(walbc("s0", `init-vol vol ${wdev}`));
      await op.run(walbc("s0", "start vol standby"));
      await op.waitFor(walbc("s0", "get state vol"), (out) => out === "Standby");
      assertEquals(await op.run(walbc("p0", "get state vol")), "Clear");
      assertEquals(await op.run(walbc("a0", "get state vol")), "Clear");

      // stop(s0) → SyncReady, then the full backup: archive volume, archive info on the
      // proxy, full-bkp; s0 Target, p0 Started, a0 Archived.
      await op.run(walbc("s0", "stop vol"));
      await op.waitFor(walbc("s0", "get state vol"), (out) => out === "SyncReady");
      await op.run(walbc("a0", "init-vol vol"));
      await op.run(walbc("p0", `archive-info add vol a0 localhost:${ports.a0}`));
      await op.run(walbc("p0", "start vol"));
      await op.run(walbc("s0", "full-bkp vol"));
      await op.waitFor(walbc("s0", "get state vol"), (out) => out === "Target");
      assertEquals(await op.run(walbc("a0", "get state vol")), "Archived");
      // WlogRecv while the storage's first wlogs arrive, which may already be under way.
      await op.waitFor(walbc("p0", "get state vol"), (out) => out === "Started");
      const first = await op.waitFor(walbc("a0", "get restorable vol"), (out) => out !== "");

      // Write (here: 1 MiB of random data at offset 0), then a snapshot.
      const writeData = async (name: string, sizeKib: number) => {
        if (useNbdcopy) {
          await op.run(
            `head -c ${sizeKib}K /dev/urandom > ${root}/${name} && ` +
              `nbdcopy ${root}/${name} '${nbdUri}'`,
          );
        } else {
          const data = crypto.getRandomValues(new Uint8Array(sizeKib * 1024));
          await writeThroughNbd(nbd, 0, { data }, { flush: true });
        }
      };
      const deviceDigest = async () =>
        useNbdcopy
          ? (await op.run(`nbdcopy '${nbdUri}' - | sha1sum`)).split(" ")[0]!
          : await deviceSha1(nbd);
      await writeData("data1", 1024);
      const md1 = await deviceDigest();
      const gid1 = BigInt(await op.run(walbc("s0", "snapshot vol")));
      assert(gid1 > BigInt(first.split(" ")[0]!), `snapshot gid ${gid1}`);
      await op.waitFor(
        walbc("a0", "get restorable vol"),
        (out) => out.split("\n").some((l) => l.split(" ")[0] === String(gid1)),
      );

      // Restore, the restored image's path, its sha1, delete it.
      const restoreSha1 = async (gid: bigint) => {
        await op.run(walbc("a0", `restore vol ${gid}`));
        await op.waitFor(walbc("a0", "get restored vol"), (out) => out.includes(String(gid)));
        const path = await op.run(walbc("a0", `get restored-path vol ${gid}`));
        assert(path.endsWith(`/wr_vol_${gid}`), path);
        const sha1 = useNbdcopy
          ? (await op.run(`sha1sum ${path}`)).split(" ")[0]!
          : await fileSha1(path);
        await op.run(walbc("a0", `del-restored vol ${gid}`));
        return sha1;
      };
      assertEquals(await restoreSha1(gid1), md1, "the restored image is the device image");

      // Two more writes, the first left to reach the archive alone (an implicit snapshot
      // ends its diff), then a snapshot: the diffs between gid1 and gid2 can be merged.
      await writeData("data2", 64);
      await op.waitFor(
        walbc("a0", "get diff vol"),
        (out) => out.split("\n").some((l) => l.startsWith(`|${gid1}|-->`)),
      );
      await writeData("data3", 64);
      const md2 = await deviceDigest();
      const gid2 = BigInt(await op.run(walbc("s0", "snapshot vol")));
      await op.waitFor(
        walbc("a0", "get restorable vol"),
        (out) => out.split("\n").some((l) => l.split(" ")[0] === String(gid2)),
      );
      const diffs = await op.run(walbc("a0", "get diff vol"));
      assert(/ M. /.test(diffs), `an M-marked (mergeable) diff: ${diffs}`);

      // Merge gid1..gid2 into one diff; the image of gid2 stays.
      await op.run(walbc("a0", `merge vol ${gid1} gid ${gid2}`));
      await op.waitFor(
        walbc("a0", "get diff vol"),
        (out) => out.split("\n").some((l) => l.startsWith(`|${gid1}|-->|${gid2}|`)),
      );
      assertEquals(await restoreSha1(gid2), md2, "merge keeps the image");

      // Apply up to gid2: the base becomes gid2, its image stays.
      await op.run(walbc("a0", `apply vol ${gid2}`));
      await op.waitFor(walbc("a0", "get base vol"), (out) => out.startsWith(`<|${gid2}|>`));
      const restorable = await op.run(walbc("a0", "get restorable vol"));
      assertEquals(restorable.split("\n")[0]!.split(" ")[0], String(gid2));
      assertEquals(await restoreSha1(gid2), md2, "apply keeps the image");
      await op.run(walbc("a0", "status vol"));

      // Shut everything down.
      for (const name of ["s0", "p0", "a0"] as const) await op.run(walbc(name, "shutdown"));
      for (const child of children) assertEquals((await child.status).code, 0);
      await op.run(`./walb wdevc delete-wdev ${wdev}`);
    } finally {
      await cleanUp(children, `${root}/run/tutorial.pid`);
      const transcriptPath = Deno.env.get("WALB_TUTORIAL_TRANSCRIPT");
      if (transcriptPath !== undefined) {
        await Deno.writeTextFile(transcriptPath, op.transcript.join("\n") + "\n");
      }
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
