import { assertEquals, assertThrows } from "../lib/testing/assert.ts";
import { HelpRequested, OptionError, OptionParser, parseIntegerText } from "./option.ts";

function wlogShowLike(): OptionParser {
  const p = new OptionParser("wlog-show", { description: "wlog-show: pretty-print wlog input." });
  p.param("WLOG_PATH", "string", ": input wlog path. '-' for stdin. (default: '-')", {
    default: "-",
  });
  p.option("b", "u64", "LSID: begin lsid. (default: 0)", { default: "0" });
  p.option("e", "u64", "LSID: end lsid. (default: 0xffffffffffffffff)", {
    default: "0xffffffffffffffff",
  });
  p.flag("head", ": show file header.");
  p.flag("debug", ": put debug messages to stderr.");
  return p;
}

Deno.test("parseIntegerText() follows the original conversion rules", () => {
  assertEquals(parseIntegerText("0x1F", "u64"), 31n);
  assertEquals(parseIntegerText("0X1F", "u64"), null);
  assertEquals(parseIntegerText("0x", "u64"), null);
  assertEquals(parseIntegerText("0x10k", "u64"), null);
  assertEquals(parseIntegerText("007", "u32"), 7n);
  assertEquals(parseIntegerText("2k", "u32"), 2000n);
  assertEquals(parseIntegerText("2K", "u32"), 2048n);
  assertEquals(parseIntegerText("1G", "u64"), 1n << 30n);
  assertEquals(parseIntegerText("1T", "u64"), null);
  assertEquals(parseIntegerText("k", "u64"), null);
  assertEquals(parseIntegerText("", "u64"), null);
  assertEquals(parseIntegerText("+1", "u64"), null);
  assertEquals(parseIntegerText("-1", "u64"), null);
  assertEquals(parseIntegerText("-1", "i32"), -1n);
  assertEquals(parseIntegerText("18446744073709551615", "u64"), (1n << 64n) - 1n);
  assertEquals(parseIntegerText("18446744073709551616", "u64"), null);
  assertEquals(parseIntegerText("4G", "u32"), null);
  assertEquals(parseIntegerText("3G", "u32"), 3n << 30n);
});

Deno.test("OptionParser.usage() generates the original help layout", () => {
  assertEquals(
    wlogShowLike().usage(),
    [
      "wlog-show: pretty-print wlog input.",
      "usage:wlog-show [opt] WLOG_PATH",
      "  WLOG_PATH : input wlog path. '-' for stdin. (default: '-')",
      "  -h : show this message.",
      "  -b LSID: begin lsid. (default: 0)",
      "  -e LSID: end lsid. (default: 0xffffffffffffffff)",
      "  -head : show file header.",
      "  -debug : put debug messages to stderr.",
      "",
    ].join("\n"),
  );
});

Deno.test("OptionParser.parse() handles values, flags, defaults and interleaving", () => {
  const opts = wlogShowLike().parse(["-head", "w1.wlog", "-b", "0x10"]);
  assertEquals(opts.bool("head"), true);
  assertEquals(opts.bool("debug"), false);
  assertEquals(opts.big("b"), 16n);
  assertEquals(opts.big("e"), (1n << 64n) - 1n);
  assertEquals(opts.str("WLOG_PATH"), "w1.wlog");
  assertEquals(opts.isSet("b"), true);
  assertEquals(opts.isSet("e"), false);
  assertEquals(wlogShowLike().parse([]).str("WLOG_PATH"), "-");
});

Deno.test("OptionParser.parse() reports errors with the original texts", () => {
  const cases: [string[], string][] = [
    [["-x"], "bad opt"],
    [["-"], "bad opt"],
    [["--head"], "bad opt"],
    [["-b"], "bad value:no value for -b"],
    [["-b", "zz"], "bad value:zz for -b"],
    [["a", "b"], "redundant argVal:b"],
  ];
  for (const [args, message] of cases) {
    const error = assertThrows(() => wlogShowLike().parse(args), OptionError);
    assertEquals(error.message, message);
  }
  assertThrows(() => wlogShowLike().parse(["-h", "-x"]), HelpRequested);
  assertThrows(() => wlogShowLike().parse(["--help"]), HelpRequested);
  assertThrows(() => wlogShowLike().parse(["-x", "-h"]), OptionError);
});

Deno.test("OptionParser.parse() takes a single value unconditionally and -<digit> as a value", () => {
  const p = new OptionParser("t");
  p.option("o", "string", "PATH: out.", { default: "-" });
  p.option("n", "i32", "N: n.", { default: "0" });
  assertEquals(p.parse(["-o", "-h"]).str("o"), "-h");
  assertEquals(p.parse(["-n", "-5"]).num("n"), -5);
});

Deno.test("OptionParser.parse() collects lists up to the next option and checks required ones", () => {
  const p = new OptionParser("virt-full-cat");
  p.required("i", "string", "arg: input.");
  p.list("d", "string", "args: diffs.");
  p.flag("stat", ": stat.");
  const opts = p.parse(["-d", "a", "b", "-stat", "-i", "img", "-d", "c"]);
  assertEquals(opts.strs("d"), ["a", "b", "c"]);
  assertEquals(opts.str("i"), "img");
  assertEquals(assertThrows(() => p.parse(["-d", "a"]), OptionError).message, "opt is necessary:i");
  assertEquals(
    assertThrows(() => p.parse(["-i", "x", "-d"]), OptionError).message,
    "no value:for -d",
  );
  assertEquals(
    assertThrows(() => p.parse(["-i"]), OptionError).message,
    "bad value:no value for -i",
  );
});

Deno.test("OptionParser.parse() positional lists: conversion errors or silent drops", () => {
  const strict = new OptionParser("t").paramList("GIDS", "u64", ": gids");
  assertEquals(strict.parse(["1", "2"]).bigs("GIDS"), [1n, 2n]);
  assertEquals(
    assertThrows(() => strict.parse(["1", "x"]), OptionError).message,
    "bad value:x for GIDS",
  );
  const lax = new OptionParser("t").paramList("GIDS", "u64", ": gids", { dropInvalid: true });
  assertEquals(lax.parse(["1", "x", "3"]).bigs("GIDS"), [1n, 3n]);
  const needed = new OptionParser("t").param("A", "string", "").param("B", "u32", "");
  assertEquals(
    assertThrows(() => needed.parse(["a"]), OptionError).message,
    "param is necessary:B",
  );
});
