/**
 * wdiff-name-gen: print the canonical wdiff file name of a diff given by its gids
 * (offline-tools.md §5.6, wdiff-and-archive.md §11).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { createDiffFileName } from "../lib/format/meta/diff_file_name.ts";
import type { MetaDiff } from "../lib/format/meta/meta_diff.ts";
import { parseTimestampCompact } from "../lib/format/meta/timestamp.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

const parser = new OptionParser("wdiff-name-gen", {
  description: "Generate walb diff name\n",
  hHelp: ": put this message.",
});
// Elements that do not convert are dropped silently, as the original does.
parser.paramList("LSID_LIST", "u64", ": specify two or four lsids", { dropInvalid: true });
parser.option("d", "string", ": datetime string (YYYYMMDDhhmmss)", { default: "" });
parser.flag("nomerge", ": do not set mergeable flag.");
parser.flag("comp", ": set compDiff flag.");
parser.flag("debug", ": put debug messages.");

/** The usage text printed by `-h`. */
export const HELP = parser.usage();

/**
 * Builds the MetaDiff named by `gids` (2: clean, 4: dirty) without checking the MetaDiff
 * rules, as the original does (`10 5` gives `…-M--10-5.wdiff`).
 */
function diffOf(
  gids: bigint[],
  timestamp: number,
  isMergeable: boolean,
  isCompDiff: boolean,
): MetaDiff {
  const [b0, b1, e0, e1] = gids.length === 2
    ? [gids[0]!, gids[0]!, gids[1]!, gids[1]!]
    : [gids[0]!, gids[1]!, gids[2]!, gids[3]!];
  return {
    isMergeable,
    isCompDiff,
    timestamp,
    snapB: { gidB: b0, gidE: b1 },
    snapE: { gidB: e0, gidE: e1 },
    dataSize: 0,
  };
}

/** The wdiff-name-gen subcommand. */
export const command: Command = {
  name: "wdiff-name-gen",
  summary: "print the canonical wdiff file name of a diff",
  run: (args, io) =>
    runTool("wdiff-name-gen", io, ({ log, out }) => {
      const opts = parser.parse(args);
      log.debugEnabled = opts.bool("debug");
      const gids = opts.bigs("LSID_LIST");
      if (gids.length !== 2 && gids.length !== 4) {
        throw new UsageError(`Option:specify two or four lsids:${gids.length}`);
      }
      const text = opts.str("d");
      const timestamp = text === "" ? Math.floor(Date.now() / 1000) : parseTimestampCompact(text);
      const diff = diffOf(gids, timestamp, !opts.bool("nomerge"), opts.bool("comp"));
      out.line(createDiffFileName(diff));
      return Promise.resolve(0);
    }),
};
