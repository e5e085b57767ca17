import { beforeAll, describe, expect, it } from "vitest";
import { LOG_EVENTS, LOG_FIELDS } from "../../../components/alarms/logContract";
import { FilterPatternError, matches, metricValue, parseFilterPattern, type JsonValue } from "../../../ops/alarms/filterPattern";
import { STACKS, type StackName } from "../../../runbook";
import { ofType, runProgram, type RecordedResource } from "../../support/harness";

/**
 * Every metric filter pattern in each stack's plan, parsed by the parser the replay uses and
 * checked against the log contract's lines: a pattern CloudWatch would refuse, or one that never
 * matches the lines it is meant to count, fails here.
 */

const filters = {} as Record<StackName, RecordedResource[]>;
beforeAll(async () => {
  for (const stack of STACKS) filters[stack] = ofType(await runProgram({ stack }), "aws:cloudwatch/logMetricFilter:LogMetricFilter");
});

/** One line per contract event, as the application writes it: every required field, with its documented type. */
function contractLine(event: (typeof LOG_EVENTS)[number], overrides: Record<string, JsonValue> = {}): Record<string, JsonValue> {
  const sample: Record<string, JsonValue> = { time: "2026-11-30T10:00:00.000Z", level: "info", event: event.name };
  for (const name of event.requiredFields) {
    const field = LOG_FIELDS.find((f) => f.name === name);
    sample[name] = field?.type === "string" ? `${name}-value` : field?.type === "integer" ? 3 : 12.5;
  }
  if ("status" in sample) sample.status = 200;
  if ("outcome" in sample) sample.outcome = "succeeded";
  return { ...sample, ...overrides };
}
const sourceOf = (r: RecordedResource) => String(r.inputs.logGroupName).split("/").pop() as string;

describe.each(STACKS)("metric filters of %s", (stack) => {
  it("all parse as CloudWatch JSON patterns", () => {
    expect(filters[stack].length).toBeGreaterThan(0);
    for (const f of filters[stack]) expect(() => parseFilterPattern(String(f.inputs.pattern)), f.name).not.toThrow();
  });

  it("each matches a log contract line its log group receives, and no line of another event", () => {
    for (const f of filters[stack]) {
      const pattern = parseFilterPattern(String(f.inputs.pattern));
      const lines = LOG_EVENTS.filter((e) => e.emittedBy === sourceOf(f)).map((e) => ({ event: e.name, line: contractLine(e, { status: 503, outcome: "failed" }) }));
      const matched = lines.filter((l) => matches(pattern, l.line)).map((l) => l.event);
      expect(matched.length, `${f.name} matches no contract line`).toBeGreaterThan(0);
      expect(new Set(matched).size, `${f.name} matches several events: ${matched.join(", ")}`).toBe(1);
    }
  });

  it("each value-extracting filter publishes the number a contract line carries, and nothing for a string", () => {
    const extracting = filters[stack].filter((f) => String((f.inputs.metricTransformation as { value: string }).value).startsWith("$."));
    expect(extracting.map((f) => f.name).sort()).toEqual(["alarms-http-duration", "alarms-worker-consecutive-failures", "alarms-worker-lag"]);
    for (const f of extracting) {
      const value = (f.inputs.metricTransformation as { value: string }).value;
      const field = value.slice(2);
      const event = LOG_EVENTS.find((e) => e.emittedBy === sourceOf(f) && (e.requiredFields as readonly string[]).includes(field));
      expect(event, `${f.name}: no contract event carries ${field}`).toBeDefined();
      const pattern = parseFilterPattern(String(f.inputs.pattern));
      for (const n of [0, 2, 960_000, 12.5]) {
        const line = contractLine(event as (typeof LOG_EVENTS)[number], { [field]: n });
        expect(matches(pattern, line), `${f.name} on ${field}=${n}`).toBe(true);
        expect(metricValue(value, line)).toBe(n);
      }
      // The field must be in the pattern: a line with it as text, or without it, publishes nothing.
      const asText = contractLine(event as (typeof LOG_EVENTS)[number], { [field]: "12" });
      expect(matches(pattern, asText) ? metricValue(value, asText) : undefined).toBeUndefined();
      const { [field]: _dropped, ...without } = contractLine(event as (typeof LOG_EVENTS)[number]);
      expect(matches(pattern, without), `${f.name} without ${field}`).toBe(false);
    }
  });
});

describe("the filter-pattern grammar", () => {
  const line = { event: "http_request", status: 503, durationMs: 12.5, path: "/api/orders/:id", ok: false, gone: null, tags: ["a", "b"], nested: { code: 7 } };
  it.each([
    ['{ $.event = "http_request" }', true],
    ['{ $.event = "http_*" }', true],
    ['{ $.event = "*_request" }', true],
    ['{ $.event = "*request*" }', true],
    ["{ $.event = http_request }", true],
    ['{ $.event != "http_request" }', false],
    ['{ $.missing != "x" }', false],
    ["{ $.status = 503 }", true],
    ["{ $.status = 503.0 }", true],
    ["{ $.status >= 500 && $.status < 600 }", true],
    ["{ $.status > 503 }", false],
    ['{ $.status = "503" }', true],
    ["{ $.durationMs <= 12.5 }", true],
    ["{ $.path = * }", true],
    ["{ $.missing = * }", false],
    ["{ $.gone IS NULL }", true],
    ["{ $.status IS NULL }", false],
    ["{ $.missing NOT EXISTS }", true],
    ["{ $.status NOT EXISTS }", false],
    ["{ $.ok IS FALSE }", true],
    ["{ $.ok IS TRUE }", false],
    ['{ $.tags[1] = "b" }', true],
    ["{ $.nested.code = 7 }", true],
    ['{ $.status = 200 || $.event = "http_request" && $.durationMs > 10 }', true],
    ['{ ($.status = 200 || $.event = "http_request") && $.durationMs > 20 }', false],
  ])("%s on a 503 http_request line: %s", (pattern, expected) => {
    expect(matches(parseFilterPattern(pattern), line)).toBe(expected);
  });

  it("compares numbers only with JSON numbers", () => {
    expect(matches(parseFilterPattern("{ $.status >= 500 }"), { status: "503" })).toBe(false);
  });

  it.each([
    ["ERROR Exception", "only JSON patterns \"{ ... }\" are supported"],
    ['{ $.event = "http_request" ', 'expected "}" at character 28'],
    ['{ $.status >= "500" }', '">=" compares with a number at character 15'],
    ["{ $.msg = %timeout% }", "regular expressions (%...%) are not supported by this parser at character 11"],
    ["{ $.ok IS MAYBE }", "expected NULL, TRUE or FALSE after IS at character 11"],
    ["{ event = 1 }", "expected a selector such as $.field at character 3"],
    ['{ $.a = "x" } trailing', 'unexpected text after the closing "}"'],
  ])("refuses %s", (pattern, message) => {
    expect(() => parseFilterPattern(pattern)).toThrow(FilterPatternError);
    expect(() => parseFilterPattern(pattern)).toThrow(message);
  });

  it("publishes literal values, numeric fields, and nothing for a field that is not a number", () => {
    expect(metricValue("1", {})).toBe(1);
    expect(metricValue("$.durationMs", { durationMs: 40.5 })).toBe(40.5);
    expect(metricValue("$.durationMs", { durationMs: "40" })).toBeUndefined();
    expect(() => metricValue("durationMs", {})).toThrow("neither a number nor a $.field selector");
  });
});
