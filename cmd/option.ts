/**
 * The option parser of the original tools (cybozu::Option), restated in offline-tools.md
 * §1.1–1.3: single-dash long names, `-<digit>` is a value, greedy single values, lists up to
 * the next option, `-h` at once, integer suffixes k/m/g/K/M/G, errors printed on stdout.
 *
 * Option names are registered without their first dash: `-maxIoSize` is typed `--maxIoSize`.
 *
 * @module
 */

/** Value kinds. `u64` values are bigint; other numeric kinds are numbers. */
export type ValueKind = "u64" | "i64" | "u32" | "i32" | "u16" | "f64" | "string";

/** A value after conversion. */
export type OptionValue = bigint | number | string;

/** A parse error; `message` is the text after `OptionError:`. */
export class OptionError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
    this.name = "OptionError";
  }
}

/** Thrown by {@link OptionParser.parse} when `-h` is scanned; carries the usage text. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super("help requested");
    this.name = "HelpRequested";
  }
}

type Mode = "flag" | "single" | "list" | "required";

interface OptionSpec {
  name: string;
  kind: ValueKind;
  help: string;
  mode: Mode;
  defaultText: string | undefined;
}

interface ParamSpec {
  name: string;
  kind: ValueKind;
  help: string;
  defaultText: string | undefined;
  isList: boolean;
  dropInvalid: boolean;
}

/** Construction options of {@link OptionParser}. */
export interface OptionParserInit {
  /** Printed before the usage line; a trailing "\n" leaves a blank line. */
  description?: string;
  /** Replaces the whole generated usage text (tools with a fixed help text). */
  usage?: string;
  /** Help text of `-h` (default ": show this message."). */
  hHelp?: string;
}

const U64_MAX = (1n << 64n) - 1n;

const RANGES: Record<Exclude<ValueKind, "f64" | "string">, [bigint, bigint]> = {
  u64: [0n, U64_MAX],
  i64: [-(1n << 63n), (1n << 63n) - 1n],
  u32: [0n, 0xffffffffn],
  i32: [-(1n << 31n), (1n << 31n) - 1n],
  u16: [0n, 0xffffn],
};

const SUFFIXES: Record<string, bigint> = {
  k: 1000n,
  m: 1000n ** 2n,
  g: 1000n ** 3n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
};

/**
 * Converts an integer text as the original parser does (§1.2). Returns null when invalid.
 *
 * @example
 * ```ts
 * import { parseIntegerText } from "./option.ts";
 * if (parseIntegerText("32K", "u32") !== 32768n) throw new Error("wrong");
 * if (parseIntegerText("0x1f", "u64") !== 31n) throw new Error("wrong");
 * if (parseIntegerText("1T", "u64") !== null) throw new Error("wrong");
 * ```
 */
export function parseIntegerText(
  text: string,
  kind: Exclude<ValueKind, "f64" | "string">,
): bigint | null {
  const [min, max] = RANGES[kind];
  let value: bigint;
  if (text.startsWith("0x")) {
    const digits = text.slice(2);
    if (!/^[0-9a-fA-F]+$/.test(digits)) return null;
    value = BigInt("0x" + digits);
  } else {
    let body = text;
    let multiplier = 1n;
    const last = body.slice(-1);
    if (body.length >= 2 && last in SUFFIXES) {
      multiplier = SUFFIXES[last]!;
      body = body.slice(0, -1);
    }
    if (!/^-?[0-9]+$/.test(body)) return null;
    if (body.startsWith("-") && min === 0n) return null;
    value = BigInt(body);
    if (value < min || value > max) return null;
    value *= multiplier;
  }
  if (value < min || value > max) return null;
  return value;
}

function convert(text: string, kind: ValueKind): OptionValue | null {
  switch (kind) {
    case "string":
      return text;
    case "f64": {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
      return Number(text);
    }
    case "u64":
      return parseIntegerText(text, kind);
    default: {
      const value = parseIntegerText(text, kind);
      return value === null ? null : Number(value);
    }
  }
}

function isOptionArgument(arg: string): boolean {
  return arg.startsWith("-") && !/^-[0-9]/.test(arg);
}

/** The result of a successful parse. */
export class ParsedOptions {
  constructor(
    private readonly values: Map<string, OptionValue | OptionValue[] | boolean>,
    private readonly given: Set<string>,
  ) {}

  /** True if the option or parameter was given on the command line. */
  isSet(name: string): boolean {
    return this.given.has(name);
  }

  /** A flag's value. */
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  #get(name: string): OptionValue {
    const value = this.values.get(name);
    if (value === undefined || typeof value === "boolean" || Array.isArray(value)) {
      throw new Error(`option ${name} has no single value`);
    }
    return value;
  }

  /** A string value. */
  str(name: string): string {
    return String(this.#get(name));
  }

  /** A numeric value as a number (u64 values must be safe integers). */
  num(name: string): number {
    const value = this.#get(name);
    if (typeof value === "bigint") {
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RangeError(`option ${name} value ${value} is too large`);
      }
      return Number(value);
    }
    if (typeof value !== "number") throw new Error(`option ${name} is not numeric`);
    return value;
  }

  /** A numeric value as a bigint. */
  big(name: string): bigint {
    const value = this.#get(name);
    if (typeof value === "string") throw new Error(`option ${name} is not numeric`);
    return BigInt(value);
  }

  #list(name: string): OptionValue[] {
    const value = this.values.get(name);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Error(`option ${name} is not a list`);
    return value;
  }

  /** Every option and parameter with its value (defaults included), in declaration order. */
  entries(): [string, OptionValue | OptionValue[] | boolean][] {
    return [...this.values];
  }

  /** A list of strings. */
  strs(name: string): string[] {
    return this.#list(name).map(String);
  }

  /** A list of numbers. */
  nums(name: string): number[] {
    return this.#list(name).map(Number);
  }

  /** A list of bigints. */
  bigs(name: string): bigint[] {
    return this.#list(name).map((v) => (typeof v === "string" ? BigInt(v) : BigInt(v)));
  }
}

/**
 * Declares options and positionals, generates the usage text and parses argv.
 *
 * @example
 * ```ts
 * import { OptionParser } from "./option.ts";
 * const p = new OptionParser("tool", { description: "tool: does things." });
 * p.option("x", "u32", "SIZE: max size.", { default: "1M" });
 * p.flag("v", ": verbose.");
 * p.param("PATH", "string", ": input path.");
 * const opts = p.parse(["-v", "in.bin", "-x", "4K"]);
 * if (opts.num("x") !== 4096 || !opts.bool("v") || opts.str("PATH") !== "in.bin") throw new Error();
 * ```
 */
export class OptionParser {
  readonly #prog: string;
  readonly #init: OptionParserInit;
  readonly #options: OptionSpec[] = [];
  readonly #params: ParamSpec[] = [];

  constructor(prog: string, init: OptionParserInit = {}) {
    this.#prog = prog;
    this.#init = init;
  }

  #add(spec: OptionSpec): this {
    if (this.#options.some((o) => o.name === spec.name)) {
      throw new Error(`option -${spec.name} declared twice`);
    }
    this.#options.push(spec);
    return this;
  }

  /** A flag: sets true when given. */
  flag(name: string, help: string): this {
    return this.#add({ name, kind: "string", help, mode: "flag", defaultText: undefined });
  }

  /** A single-value option; the next argument is its value, unconditionally. */
  option(name: string, kind: ValueKind, help: string, init: { default?: string } = {}): this {
    return this.#add({ name, kind, help, mode: "single", defaultText: init.default });
  }

  /** A list option: the following arguments up to the next option; appends when repeated. */
  list(name: string, kind: ValueKind, help: string): this {
    return this.#add({ name, kind, help, mode: "list", defaultText: undefined });
  }

  /** A single-value option that must be given. */
  required(name: string, kind: ValueKind, help: string): this {
    return this.#add({ name, kind, help, mode: "required", defaultText: undefined });
  }

  /** A positional slot; with a default it is optional. */
  param(name: string, kind: ValueKind, help: string, init: { default?: string } = {}): this {
    this.#params.push({
      name,
      kind,
      help,
      defaultText: init.default,
      isList: false,
      dropInvalid: false,
    });
    return this;
  }

  /** The final positional list slot (may be empty). */
  paramList(
    name: string,
    kind: ValueKind,
    help: string,
    init: { dropInvalid?: boolean } = {},
  ): this {
    this.#params.push({
      name,
      kind,
      help,
      defaultText: undefined,
      isList: true,
      dropInvalid: init.dropInvalid ?? false,
    });
    return this;
  }

  /** The usage text printed by `-h` and after parse errors (ends with a newline). */
  usage(): string {
    if (this.#init.usage !== undefined) return this.#init.usage;
    const lines: string[] = [];
    if (this.#init.description !== undefined) lines.push(this.#init.description);
    let head = `usage:${this.#prog}`;
    if (this.#options.length > 0) head += " [opt]";
    for (const o of this.#options) if (o.mode === "required") head += ` -${o.name} para`;
    for (const p of this.#params) head += ` ${p.name}`;
    lines.push(head);
    for (const p of this.#params) if (p.help !== "") lines.push(`  ${p.name} ${p.help}`);
    lines.push(`  -h ${this.#init.hHelp ?? ": show this message."}`);
    for (const o of this.#options) {
      lines.push(`  -${o.name} ${o.help}${o.mode === "required" ? " (must)" : ""}`);
    }
    return lines.join("\n") + "\n";
  }

  #fail(message: string): never {
    throw new OptionError(message, this.usage());
  }

  /**
   * Parses `args` (without the program name).
   *
   * @throws {HelpRequested} when `-h` is scanned before any error
   * @throws {OptionError} on a parse error
   */
  parse(args: readonly string[]): ParsedOptions {
    const values = new Map<string, OptionValue | OptionValue[] | boolean>();
    const given = new Set<string>();
    for (const o of this.#options) {
      if (o.mode === "flag") values.set(o.name, false);
      else if (o.mode === "list") values.set(o.name, []);
      else if (o.defaultText !== undefined) {
        const value = convert(o.defaultText, o.kind);
        if (value === null) throw new Error(`bad default ${o.defaultText} for -${o.name}`);
        values.set(o.name, value);
      }
    }
    const positionals: string[] = [];
    let i = 0;
    while (i < args.length) {
      const arg = args[i]!;
      i++;
      if (!isOptionArgument(arg)) {
        positionals.push(arg);
        continue;
      }
      const name = arg.slice(1);
      const spec = this.#options.find((o) => o.name === name);
      if (spec === undefined) {
        if (name === "h" || name === "-help") throw new HelpRequested(this.usage());
        this.#fail("bad opt");
      }
      given.add(name);
      if (spec.mode === "flag") {
        values.set(name, true);
      } else if (spec.mode === "list") {
        const collected: OptionValue[] = [];
        while (i < args.length && !isOptionArgument(args[i]!)) {
          const text = args[i]!;
          const value = convert(text, spec.kind);
          if (value === null) this.#fail(`bad value:${text} for -${name}:${collected.length}`);
          collected.push(value);
          i++;
        }
        if (collected.length === 0) this.#fail(`no value:for -${name}`);
        (values.get(name) as OptionValue[]).push(...collected);
      } else {
        if (i >= args.length) this.#fail(`bad value:no value for -${name}`);
        const text = args[i]!;
        i++;
        const value = convert(text, spec.kind);
        if (value === null) this.#fail(`bad value:${text} for -${name}`);
        values.set(name, value);
      }
    }
    let slot = 0;
    for (const text of positionals) {
      const spec = this.#params[slot];
      if (spec === undefined) this.#fail(`redundant argVal:${text}`);
      const value = convert(text, spec.kind);
      if (spec.isList) {
        const list = (values.get(spec.name) as OptionValue[] | undefined) ?? [];
        if (value !== null) list.push(value);
        else if (!spec.dropInvalid) this.#fail(`bad value:${text} for ${spec.name}`);
        values.set(spec.name, list);
        given.add(spec.name);
        continue;
      }
      if (value === null) this.#fail(`bad value:${text} for ${spec.name}`);
      values.set(spec.name, value);
      given.add(spec.name);
      slot++;
    }
    for (const o of this.#options) {
      if (o.mode === "required" && !given.has(o.name)) this.#fail(`opt is necessary:${o.name}`);
    }
    for (const p of this.#params) {
      if (p.isList) {
        if (!values.has(p.name)) values.set(p.name, []);
        continue;
      }
      if (values.has(p.name)) continue;
      if (p.defaultText === undefined) this.#fail(`param is necessary:${p.name}`);
      const value = convert(p.defaultText, p.kind);
      if (value === null) throw new Error(`bad default ${p.defaultText} for ${p.name}`);
      values.set(p.name, value);
    }
    return new ParsedOptions(values, given);
  }
}
