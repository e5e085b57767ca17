/**
 * CloudWatch Logs JSON filter patterns, parsed and evaluated as metric filters do. The grammar and
 * semantics follow "Filter pattern syntax for metric filters, subscription filters, filter log
 * events, and Live Tail" (Amazon CloudWatch Logs User Guide), JSON log events section:
 *
 *   pattern     = "{" expression "}"
 *   expression  = term { "||" term }              ; && binds tighter than ||
 *   term        = factor { "&&" factor }
 *   factor      = "(" expression ")" | comparison
 *   comparison  = selector ( "=" | "!=" ) ( string | number | "*" )
 *               | selector ( "<" | ">" | "<=" | ">=" ) number
 *               | selector "IS" ( "NULL" | "TRUE" | "FALSE" )
 *               | selector "NOT" "EXISTS"
 *   selector    = "$" { "." name | "[" index "]" }
 *   string      = '"' chars '"' | bare word       ; a leading or trailing "*" is a wildcard
 *
 * Semantics (as documented): a number compares numerically (123 and 123.0 are equal) and only
 * against a JSON number; a string compares with its wildcards against a JSON string; `= *` matches
 * any present value; `!=` needs the field present; `IS NULL` matches an explicit null and
 * `NOT EXISTS` a missing field. Term, space-delimited and regex (`%...%`) patterns are rejected:
 * none of this project's filters uses them, and a parser that half-understands them would let a
 * wrong pattern through.
 *
 * Pure and dependency-free: the metric-filter tests and `alarms:replay` both use it.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

type Path = (string | number)[];

export type FilterNode =
  | { kind: "or" | "and"; left: FilterNode; right: FilterNode }
  | { kind: "equals"; path: Path; negated: boolean; value: StringValue | number | "*" }
  | { kind: "compare"; path: Path; op: "<" | ">" | "<=" | ">="; value: number }
  | { kind: "is"; path: Path; value: null | true | false }
  | { kind: "notExists"; path: Path };

/** A string operand: exact text, or text with a leading and/or trailing `*` wildcard. */
export interface StringValue {
  text: string;
  prefixWildcard: boolean;
  suffixWildcard: boolean;
}

/** A pattern CloudWatch would refuse (or this parser does not cover); `offset` is the character where parsing stopped. */
export class FilterPatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`filter pattern ${JSON.stringify(pattern)}: ${reason} at character ${offset + 1}`);
    this.name = "FilterPatternError";
  }
}

export interface ParsedFilterPattern {
  source: string;
  root: FilterNode;
  /** Every selector the pattern reads, as written (`$.status`). */
  selectors: string[];
}

type Token =
  | { type: "op"; text: "{" | "}" | "(" | ")" | "&&" | "||" | "=" | "!=" | "<" | ">" | "<=" | ">="; at: number }
  | { type: "selector"; path: Path; text: string; at: number }
  | { type: "string"; value: StringValue; at: number }
  | { type: "word"; text: string; at: number };

const WORD = /[A-Za-z0-9_.\-+*:/@]/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new FilterPatternError(source, at, reason);
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      i++;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === "&&" || two === "||" || two === "!=" || two === "<=" || two === ">=") {
      tokens.push({ type: "op", text: two, at: i });
      i += 2;
      continue;
    }
    if (c === "{" || c === "}" || c === "(" || c === ")" || c === "=" || c === "<" || c === ">") {
      tokens.push({ type: "op", text: c, at: i });
      i++;
      continue;
    }
    if (c === "%") fail("regular expressions (%...%) are not supported by this parser");
    if (c === "$") {
      const start = i;
      const path: Path = [];
      i++;
      if (source[i] !== "." && source[i] !== "[") fail('a selector starts with "$." or "$["');
      while (source[i] === "." || source[i] === "[") {
        if (source[i] === ".") {
          i++;
          const m = /^[A-Za-z_@][A-Za-z0-9_@\-]*/.exec(source.slice(i));
          if (!m) fail("a property name after \".\"");
          path.push((m as RegExpExecArray)[0]);
          i += (m as RegExpExecArray)[0].length;
        } else {
          const m = /^\[(\d+)\]/.exec(source.slice(i));
          if (!m) fail("an array index such as [0]");
          path.push(Number((m as RegExpExecArray)[1]));
          i += (m as RegExpExecArray)[0].length;
        }
      }
      tokens.push({ type: "selector", path, text: source.slice(start, i), at: start });
      continue;
    }
    if (c === '"') {
      const start = i;
      let text = "";
      i++;
      while (i < source.length && source[i] !== '"') {
        if (source[i] === "\\" && i + 1 < source.length) i++;
        text += source[i];
        i++;
      }
      if (i >= source.length) fail("an unterminated string", start);
      i++;
      tokens.push({ type: "string", value: wildcard(text), at: start });
      continue;
    }
    if (WORD.test(c)) {
      const start = i;
      while (i < source.length && WORD.test(source[i] as string)) i++;
      tokens.push({ type: "word", text: source.slice(start, i), at: start });
      continue;
    }
    fail(`unexpected "${c}"`);
  }
  return tokens;
}

function wildcard(text: string): StringValue {
  const prefixWildcard = text.startsWith("*");
  const suffixWildcard = text.length > 1 && text.endsWith("*");
  return { text: text.slice(prefixWildcard ? 1 : 0, suffixWildcard ? -1 : undefined), prefixWildcard, suffixWildcard };
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** Parses a JSON filter pattern; throws FilterPatternError naming the character where it went wrong. */
export function parseFilterPattern(source: string): ParsedFilterPattern {
  const tokens = tokenize(source);
  const selectors: string[] = [];
  let pos = 0;
  const end = source.length;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (reason: string, token = peek()): never => {
    throw new FilterPatternError(source, token?.at ?? end, reason);
  };
  const expectOp = (text: string) => {
    const t = peek();
    if (t?.type !== "op" || t.text !== text) fail(`expected "${text}"`);
    pos++;
  };

  const comparison = (): FilterNode => {
    const sel = peek();
    if (sel?.type !== "selector") return fail("expected a selector such as $.field");
    pos++;
    selectors.push(sel.text);
    const path = sel.path;
    const op = peek();
    if (op?.type === "word" && (op.text === "IS" || op.text === "NOT")) {
      pos++;
      const what = peek();
      if (what?.type !== "word") return fail(op.text === "IS" ? "expected NULL, TRUE or FALSE after IS" : "expected EXISTS after NOT");
      pos++;
      if (op.text === "NOT") {
        if (what.text !== "EXISTS") fail("expected EXISTS after NOT", what);
        return { kind: "notExists", path };
      }
      if (what.text === "NULL") return { kind: "is", path, value: null };
      if (what.text === "TRUE") return { kind: "is", path, value: true };
      if (what.text === "FALSE") return { kind: "is", path, value: false };
      return fail("expected NULL, TRUE or FALSE after IS", what);
    }
    if (op?.type !== "op" || !["=", "!=", "<", ">", "<=", ">="].includes(op.text)) return fail("expected =, !=, <, >, <=, >=, IS or NOT EXISTS");
    pos++;
    const operand = peek();
    if (operand === undefined || (operand.type !== "word" && operand.type !== "string")) return fail("expected a value");
    pos++;
    if (op.text === "=" || op.text === "!=") {
      const negated = op.text === "!=";
      if (operand.type === "string") return { kind: "equals", path, negated, value: operand.value };
      if (operand.text === "*") return { kind: "equals", path, negated, value: "*" };
      if (NUMBER.test(operand.text)) return { kind: "equals", path, negated, value: Number(operand.text) };
      return { kind: "equals", path, negated, value: wildcard(operand.text) };
    }
    if (operand.type !== "word" || !NUMBER.test(operand.text)) return fail(`"${op.text}" compares with a number`, operand);
    return { kind: "compare", path, op: op.text as "<" | ">" | "<=" | ">=", value: Number(operand.text) };
  };
  const factor = (): FilterNode => {
    const t = peek();
    if (t?.type === "op" && t.text === "(") {
      pos++;
      const inner = expression();
      expectOp(")");
      return inner;
    }
    return comparison();
  };
  const term = (): FilterNode => {
    let left = factor();
    for (let t = peek(); t?.type === "op" && t.text === "&&"; t = peek()) {
      pos++;
      left = { kind: "and", left, right: factor() };
    }
    return left;
  };
  const expression = (): FilterNode => {
    let left = term();
    for (let t = peek(); t?.type === "op" && t.text === "||"; t = peek()) {
      pos++;
      left = { kind: "or", left, right: term() };
    }
    return left;
  };

  const first = peek();
  if (first?.type !== "op" || first.text !== "{") fail('only JSON patterns "{ ... }" are supported; term and space-delimited patterns are not');
  pos++;
  const root = expression();
  expectOp("}");
  if (pos < tokens.length) fail("unexpected text after the closing \"}\"");
  return { source, root, selectors: [...new Set(selectors)] };
}

/** The value at a selector's path, or `undefined` when the field is absent. */
function select(event: JsonValue, path: readonly (string | number)[]): JsonValue | undefined {
  let node: JsonValue | undefined = event;
  for (const step of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = typeof step === "number" ? (Array.isArray(node) ? node[step] : undefined) : Array.isArray(node) ? undefined : node[step];
  }
  return node;
}

function stringMatches(actual: string, v: StringValue): boolean {
  if (v.prefixWildcard && v.suffixWildcard) return actual.includes(v.text);
  if (v.prefixWildcard) return actual.endsWith(v.text);
  if (v.suffixWildcard) return actual.startsWith(v.text);
  return actual === v.text;
}

function evaluate(node: FilterNode, event: JsonValue): boolean {
  switch (node.kind) {
    case "or":
      return evaluate(node.left, event) || evaluate(node.right, event);
    case "and":
      return evaluate(node.left, event) && evaluate(node.right, event);
    case "notExists":
      return select(event, node.path) === undefined;
    case "is":
      return select(event, node.path) === node.value;
    case "compare": {
      const actual = select(event, node.path);
      if (typeof actual !== "number") return false;
      switch (node.op) {
        case "<":
          return actual < node.value;
        case ">":
          return actual > node.value;
        case "<=":
          return actual <= node.value;
        default:
          return actual >= node.value;
      }
    }
    case "equals": {
      const actual = select(event, node.path);
      if (actual === undefined) return false;
      let equal: boolean;
      if (node.value === "*") equal = true;
      else if (typeof node.value === "number") equal = typeof actual === "number" && actual === node.value;
      else equal = (typeof actual === "string" || typeof actual === "number" || typeof actual === "boolean") && stringMatches(String(actual), node.value);
      return node.negated ? !equal : equal;
    }
  }
}

/** Whether a parsed JSON log event matches the pattern. */
export function matches(pattern: ParsedFilterPattern, event: JsonValue): boolean {
  return evaluate(pattern.root, event);
}

/**
 * The value a metric transformation publishes for a matching event, as CloudWatch computes it: a
 * literal number, or `$.field`, which must hold a number (CloudWatch publishes nothing for an event
 * whose field is not numeric). Returns undefined when nothing is published.
 * @throws Error when `value` is neither a number nor a `$.` selector.
 */
export function metricValue(value: string, event: JsonValue): number | undefined {
  if (NUMBER.test(value)) return Number(value);
  if (!value.startsWith("$.")) throw new Error(`metric value ${JSON.stringify(value)} is neither a number nor a $.field selector`);
  const actual = select(event, value.slice(2).split("."));
  return typeof actual === "number" && Number.isFinite(actual) ? actual : undefined;
}
