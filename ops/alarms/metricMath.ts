/**
 * The part of CloudWatch metric math the plan's alarms use, over time series aligned to one
 * alarm's periods: numbers, query ids, `+ - * /`, parentheses, `FILL(m, value)`,
 * `MAX|MIN|SUM|AVG([m1, m2, ...])` (per period, over the series that have a value) and
 * `ANOMALY_DETECTION_BAND(m, k)`. A series is a Float64Array with NaN where a period has no value;
 * arithmetic with a missing operand is missing, and so is a division by zero (CloudWatch drops
 * such points). Unknown functions are an error naming the expression, never a silent zero.
 *
 * The anomaly band is an APPROXIMATION, labelled as such wherever the replay prints it: CloudWatch
 * trains a model on up to two weeks of history with daily and weekly seasonality; the replay uses
 * the mean plus or minus k standard deviations of the same metric over the preceding 24 hours,
 * and has no band (missing data) until the replay has 24 hours of history.
 */

export type Series = Float64Array;
export interface Band {
  lower: Series;
  upper: Series;
}
export type MathValue = Series | Band;

/** Context of one evaluation: the series of every query id, the period, and where index 0 starts. */
export interface MathContext {
  length: number;
  periodSeconds: number;
  /** Series by query id; ids computed earlier in the alarm's query list are included. */
  series: ReadonlyMap<string, MathValue>;
}

export class MetricMathError extends Error {
  constructor(expression: string, reason: string) {
    super(`metric math ${JSON.stringify(expression)}: ${reason}`);
    this.name = "MetricMathError";
  }
}

/** Hours of history the approximate anomaly band learns from before it has a value. */
export const BAND_TRAINING_SECONDS = 24 * 3600;

type Token = { type: "num"; value: number } | { type: "id"; text: string } | { type: "sym"; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),[\]]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) throw new MetricMathError(expression, `unexpected text at character ${at + 1}`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ type: "num", value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ type: "id", text: m[2] });
    else tokens.push({ type: "sym", text: m[3] as string });
  }
  return tokens;
}

const isSeries = (v: MathValue): v is Series => v instanceof Float64Array;

/** Evaluates an expression; throws MetricMathError for anything outside the supported subset. */
export function evaluateMath(expression: string, ctx: MathContext): MathValue {
  const tokens = tokenize(expression);
  let pos = 0;
  const fail = (reason: string): never => {
    throw new MetricMathError(expression, reason);
  };
  const peekSym = (text: string) => {
    const t = tokens[pos];
    return t?.type === "sym" && t.text === text;
  };
  const expect = (text: string) => {
    if (!peekSym(text)) fail(`expected "${text}"`);
    pos++;
  };
  const constant = (value: number): Series => new Float64Array(ctx.length).fill(value);
  const asSeries = (v: MathValue): Series => (isSeries(v) ? v : fail("an anomaly band cannot be used in arithmetic"));
  const zip = (a: Series, b: Series, f: (x: number, y: number) => number): Series => {
    const out = new Float64Array(ctx.length);
    for (let i = 0; i < ctx.length; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      out[i] = Number.isNaN(x) || Number.isNaN(y) ? NaN : f(x, y);
    }
    return out;
  };

  const call = (name: string): MathValue => {
    expect("(");
    if (name === "FILL") {
      const s = asSeries(sum());
      expect(",");
      const t = tokens[pos++];
      if (t?.type !== "num") return fail("FILL's second argument must be a number in this replay");
      expect(")");
      return s.map((x) => (Number.isNaN(x) ? t.value : x));
    }
    if (name === "MAX" || name === "MIN" || name === "SUM" || name === "AVG") {
      expect("[");
      const list: Series[] = [asSeries(sum())];
      while (peekSym(",")) {
        pos++;
        list.push(asSeries(sum()));
      }
      expect("]");
      expect(")");
      const out = new Float64Array(ctx.length).fill(NaN);
      for (let i = 0; i < ctx.length; i++) {
        const present = list.map((s) => s[i] as number).filter((x) => !Number.isNaN(x));
        if (present.length === 0) continue;
        out[i] =
          name === "MAX" ? Math.max(...present) : name === "MIN" ? Math.min(...present) : name === "SUM" ? present.reduce((a, b) => a + b, 0) : present.reduce((a, b) => a + b, 0) / present.length;
      }
      return out;
    }
    if (name === "ANOMALY_DETECTION_BAND") {
      const s = asSeries(sum());
      let k = 2;
      if (peekSym(",")) {
        pos++;
        const t = tokens[pos++];
        if (t?.type !== "num") return fail("ANOMALY_DETECTION_BAND's second argument must be a number");
        k = t.value;
      }
      expect(")");
      return approximateBand(s, k, ctx.periodSeconds);
    }
    return fail(`the function ${name} is not supported by the replay`);
  };

  const primary = (): MathValue => {
    const t = tokens[pos++];
    if (t === undefined) return fail("unexpected end");
    if (t.type === "num") return constant(t.value);
    if (t.type === "sym" && t.text === "(") {
      const inner = sum();
      expect(")");
      return inner;
    }
    if (t.type === "sym" && t.text === "-") return zip(constant(0), asSeries(primary()), (x, y) => x - y);
    if (t.type === "id") {
      if (peekSym("(")) return call(t.text);
      const s = ctx.series.get(t.text);
      if (!s) return fail(`no query has the id "${t.text}"`);
      return s;
    }
    return fail(`unexpected "${t.type === "sym" ? t.text : ""}"`);
  };
  const product = (): MathValue => {
    let left = primary();
    while (peekSym("*") || peekSym("/")) {
      const op = (tokens[pos++] as { text: string }).text;
      const right = asSeries(primary());
      left = zip(asSeries(left), right, op === "*" ? (x, y) => x * y : (x, y) => (y === 0 ? NaN : x / y));
    }
    return left;
  };
  const sum = (): MathValue => {
    let left = product();
    while (peekSym("+") || peekSym("-")) {
      const op = (tokens[pos++] as { text: string }).text;
      const right = asSeries(product());
      left = zip(asSeries(left), right, op === "+" ? (x, y) => x + y : (x, y) => x - y);
    }
    return left;
  };

  const result = sum();
  if (pos < tokens.length) fail("unexpected text after the expression");
  return result;
}

/** Mean ± k standard deviations of the preceding 24 hours' values; missing until 24 hours of history. */
function approximateBand(s: Series, k: number, periodSeconds: number): Band {
  const window = Math.max(1, Math.round(BAND_TRAINING_SECONDS / periodSeconds));
  const lower = new Float64Array(s.length).fill(NaN);
  const upper = new Float64Array(s.length).fill(NaN);
  for (let i = window; i < s.length; i++) {
    let n = 0;
    let total = 0;
    let squares = 0;
    for (let j = i - window; j < i; j++) {
      const x = s[j] as number;
      if (Number.isNaN(x)) continue;
      n++;
      total += x;
      squares += x * x;
    }
    if (n === 0) continue;
    const mean = total / n;
    const sd = Math.sqrt(Math.max(0, squares / n - mean * mean));
    lower[i] = mean - k * sd;
    upper[i] = mean + k * sd;
  }
  return { lower, upper };
}

export function isBand(v: MathValue): v is Band {
  return !isSeries(v);
}
