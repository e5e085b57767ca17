import { matches, metricValue, type JsonValue } from "./filterPattern";
import { evaluateMath, isBand, type MathValue } from "./metricMath";
import { parseRule, ReplayInputError, type AlarmState } from "./compositeRule";
import { metricKey, type ReplayCompositeAlarm, type ReplayFilter, type ReplayMetricAlarm, type ReplayPlan, type Statistic } from "./plan";

/**
 * The alarm replay engine: JSON log lines become the per-minute metric values the plan's metric
 * filters would publish, AWS-published metrics come in as rows, and every alarm of the plan is
 * evaluated minute by minute as CloudWatch does. Plain Node, no Pulumi.
 *
 * How CloudWatch is modelled (Amazon CloudWatch User Guide: "Using Amazon CloudWatch alarms",
 * "Configuring how CloudWatch alarms treat missing data"; CloudWatch Logs: "Creating metrics from
 * log events using filters"):
 * - a metric filter publishes its value for each matching event, aggregated per minute; when a
 *   log group received events in a minute but none matched, a filter with a default value
 *   publishes that value once for the minute;
 * - datapoints of an alarm are the statistic over periods aligned to the clock (a 300-second period
 *   starts at :00, :05, ...); the alarm is evaluated at every minute over its last
 *   `evaluationPeriods` complete periods and goes to ALARM when `datapointsToAlarm` of them breach;
 * - missing periods count as breaching (`breaching`), as not breaching (`notBreaching`), or are left
 *   out (`missing`, `ignore`); when every period is missing, `missing` goes to INSUFFICIENT_DATA and
 *   `ignore` keeps the current state;
 * - periods before the first line or row of the replay do not exist: an alarm cannot breach on
 *   history the replay was not given;
 * - every alarm starts in INSUFFICIENT_DATA; a composite alarm is ALARM while its rule is true.
 */

export { ReplayInputError, type AlarmState } from "./compositeRule";

export interface Transition {
  /** ISO time of the evaluation that changed the state (a minute boundary). */
  at: string;
  from: AlarmState;
  to: AlarmState;
  /** Topics (SNS ARNs) the new state's actions notify. */
  notifies: string[];
}

export interface ReplayResult {
  stack: string;
  alarms: { name: string; transitions: Transition[] }[];
}

interface Aggregate {
  sum: number;
  count: number;
  min: number;
  max: number;
}

const MINUTE = 60_000;

/**
 * The longest time range one replay covers, from its earliest to its latest line or row: 31 days.
 * An incident replay covers hours to days; a month holds a whole calendar month's review and a day
 * of anomaly-band training with room to spare. The replay keeps a value per minute and evaluates
 * every minute of its range, so the range, not the number of lines, bounds its memory and time
 * (44,640 minutes: one Float64Array of 350 KiB per one-minute series). A longer range is almost
 * always a mistyped timestamp (3026 for 2026), which would otherwise allocate centuries of minutes.
 */
export const MAX_REPLAY_DAYS = 31;
const MAX_SPAN = MAX_REPLAY_DAYS * 24 * 60 * MINUTE;

/** ISO 8601 date and time with a zone, as `Date.prototype.toISOString` and the log contract write it. */
const ISO_TIME = /^(?:[+-]\d{6}|\d{4})-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Days of a month (1-12) of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Milliseconds since the epoch of an ISO 8601 date and time with a zone (`2026-11-30T10:00:00.000Z`,
 * `2026-11-30T11:00:00+01:00`), or NaN for anything else: other date formats `Date.parse` guesses
 * at (`Nov 30 2026`), a time without a zone (read in this machine's zone), a day the month lacks,
 * or a time past what a JavaScript Date holds (±275,760 years).
 */
export function isoTime(text: unknown): number {
  if (typeof text !== "string" || !ISO_TIME.test(text)) return NaN;
  const t = text.indexOf("T");
  // Date.parse rolls 2026-02-30 over into March.
  if (Number(text.slice(t - 2, t)) > daysIn(Number(text.slice(0, t - 6)), Number(text.slice(t - 5, t - 3)))) return NaN;
  return Date.parse(text);
}

/** A span past the limit: `31 days 0 h 1 min`, or whole days from 100 days on (`365,242 days`). */
function duration(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  if (days >= 100) return `${days.toLocaleString("en")} days`;
  const minutes = Math.floor((ms % 86_400_000) / MINUTE);
  return `${days} days ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Which log group a line belongs to, from its `@log` field or, failing that, its event. */
export interface LineRouting {
  /** Log sources (`api`, `worker`) by event name, from the log contract. */
  sourcesByEvent: ReadonlyMap<string, readonly string[]>;
}

export class AlarmReplay {
  private readonly filtersByGroup = new Map<string, { filter: ReplayFilter; key: string; matchedThisMinute: boolean }[]>();
  private readonly groupBySource = new Map<string, string>();
  private readonly points = new Map<string, Map<number, Aggregate>>();
  private readonly eventsThisMinute = new Map<string, number>();
  private currentMinute = NaN;
  private lastLogTime = -Infinity;
  private lastMetricTime = -Infinity;
  private firstMinute = Infinity;
  private lastMinute = -Infinity;
  /** The "file:line" and time of the earliest and latest line or row, for span errors. */
  private first = { where: "", time: "" };
  private last = { where: "", time: "" };
  /** Namespace/metric pairs the --metrics rows supplied, for the "no rows" notes. */
  readonly suppliedMetrics = new Set<string>();
  lines = 0;

  constructor(
    private readonly plan: ReplayPlan,
    private readonly routing: LineRouting,
  ) {
    for (const group of plan.logGroupNames) {
      this.filtersByGroup.set(group, []);
      this.groupBySource.set(group.slice(group.lastIndexOf("/") + 1), group);
    }
    for (const filter of plan.filters) {
      const list = this.filtersByGroup.get(filter.logGroupName);
      if (!list) throw new ReplayInputError(`plan: metric filter ${filter.resource} reads ${filter.logGroupName}, which the plan does not create`);
      list.push({ filter, key: metricKey(filter.metric), matchedThisMinute: false });
    }
  }

  private add(key: string, minute: number, value: number): void {
    let byMinute = this.points.get(key);
    if (!byMinute) {
      byMinute = new Map();
      this.points.set(key, byMinute);
    }
    const a = byMinute.get(minute);
    if (a) {
      a.sum += value;
      a.count++;
      if (value < a.min) a.min = value;
      if (value > a.max) a.max = value;
    } else {
      byMinute.set(minute, { sum: value, count: 1, min: value, max: value });
    }
  }

  /**
   * Widens the replay's range to `time`'s minute, refusing a range longer than MAX_REPLAY_DAYS
   * before anything is allocated for it.
   * @throws ReplayInputError naming this line and the line at the range's other end.
   */
  private span(minute: number, time: string, where: string): void {
    if (minute < this.firstMinute) {
      if (this.lastMinute - minute > MAX_SPAN) this.refuseSpan(this.lastMinute - minute, where, time, this.last, "before");
      this.firstMinute = minute;
      this.first = { where, time };
    }
    if (minute > this.lastMinute) {
      if (minute - this.firstMinute > MAX_SPAN) this.refuseSpan(minute - this.firstMinute, where, time, this.first, "after");
      this.lastMinute = minute;
      this.last = { where, time };
    }
  }

  private refuseSpan(ms: number, where: string, time: string, other: { where: string; time: string }, relation: "before" | "after"): never {
    throw new ReplayInputError(
      `${where}: time ${time} is ${duration(ms)} ${relation} ${other.where} (${other.time}); one replay covers at most ${MAX_REPLAY_DAYS} days. ` +
        `Correct the timestamp if it is mistyped, or split the file into replays of at most ${MAX_REPLAY_DAYS} days each`,
    );
  }

  /** Closes a minute of log ingestion: filters with a default value publish it where nothing matched. */
  private closeMinute(): void {
    if (Number.isNaN(this.currentMinute)) return;
    for (const [group, count] of this.eventsThisMinute) {
      if (count === 0) continue;
      for (const entry of this.filtersByGroup.get(group) ?? []) {
        if (!entry.matchedThisMinute && entry.filter.defaultValue !== undefined) this.add(entry.key, this.currentMinute, entry.filter.defaultValue);
        entry.matchedThisMinute = false;
      }
      this.eventsThisMinute.set(group, 0);
    }
  }

  private groupOf(event: Record<string, JsonValue>, where: string): string {
    const field = event["@log"];
    if (field !== undefined && typeof field !== "string") {
      throw new ReplayInputError(`${where}: "@log" must be a string naming the log group (${[...this.groupBySource.keys()].join(" or ")}, or its full name), got ${JSON.stringify(field)}`);
    }
    if (field !== undefined) {
      // Logs Insights results name the group "<account id>:<log group>".
      const log = field.replace(/^\d{12}:/, "");
      const group = this.filtersByGroup.has(log) ? log : this.groupBySource.get(log);
      if (!group) throw new ReplayInputError(`${where}: "@log" is "${log}", which is none of the plan's log groups (${[...this.groupBySource.keys()].join(", ")} or their full names)`);
      return group;
    }
    const name = event.event;
    const sources = typeof name === "string" ? this.routing.sourcesByEvent.get(name) : undefined;
    const groups = (sources ?? []).map((s) => this.groupBySource.get(s)).filter((g): g is string => g !== undefined);
    if (groups.length === 1) return groups[0] as string;
    if (groups.length === 0) {
      throw new ReplayInputError(`${where}: cannot tell which log group the line belongs to; add "@log": "${[...this.groupBySource.keys()].join('" or "')}" (event ${JSON.stringify(name ?? null)} is not in the log contract)`);
    }
    throw new ReplayInputError(`${where}: event "${String(name)}" is written by ${sources?.join(" and ")}; add "@log" to say which`);
  }

  /**
   * Ingests one JSON log line (the application's line, plus an optional `"@log"`: the log group or
   * its last segment, `api` or `worker`).
   * @param where "file:line" for error messages.
   * @throws ReplayInputError for a line that is not a JSON object, has no ISO 8601 `time` with a
   *   zone, goes back in time, takes the replay past MAX_REPLAY_DAYS, or cannot be routed to a log
   *   group (including a `@log` that is not a string).
   */
  addLogLine(text: string, where: string): void {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      throw new ReplayInputError(`${where}: not JSON (${text.length > 60 ? `${text.slice(0, 57)}...` : text}); each line must be one JSON object`);
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      const got = event === null ? "null" : Array.isArray(event) ? "an array" : `a ${typeof event}`;
      throw new ReplayInputError(`${where}: got JSON ${got}, not an object; each line must be one JSON object`);
    }
    const record = event as Record<string, JsonValue>;
    const time = isoTime(record.time);
    if (Number.isNaN(time)) {
      throw new ReplayInputError(`${where}: "time" must be an ISO 8601 date and time with a zone, of a day that exists, such as 2026-11-30T10:00:00.000Z (the log contract's time field), got ${JSON.stringify(record.time ?? null)}`);
    }
    if (time < this.lastLogTime) {
      throw new ReplayInputError(`${where}: time ${record.time as string} is earlier than the line before (${new Date(this.lastLogTime).toISOString()}); sort the file by time`);
    }
    this.lastLogTime = time;
    this.lines++;
    const minute = Math.floor(time / MINUTE) * MINUTE;
    if (minute !== this.currentMinute) {
      this.span(minute, record.time as string, where);
      this.closeMinute();
      this.currentMinute = minute;
    }
    const group = this.groupOf(record, where);
    this.eventsThisMinute.set(group, (this.eventsThisMinute.get(group) ?? 0) + 1);
    for (const entry of this.filtersByGroup.get(group) as { filter: ReplayFilter; key: string; matchedThisMinute: boolean }[]) {
      if (!matches(entry.filter.pattern, record)) continue;
      const value = metricValue(entry.filter.value, record);
      if (value === undefined) continue;
      entry.matchedThisMinute = true;
      this.add(entry.key, minute, value);
    }
  }

  /**
   * Ingests one `time,namespace,metric,dimensions,value` row of an AWS-published metric; dimensions
   * are `Name=Value` pairs joined by `;`, or empty to stand for the metric whatever its dimensions.
   * @throws ReplayInputError naming the row, also one that takes the replay past MAX_REPLAY_DAYS.
   */
  addMetricRow(text: string, where: string): void {
    const cells = text.split(",").map((c) => c.trim());
    if (cells.length !== 5) throw new ReplayInputError(`${where}: expected 5 columns time,namespace,metric,dimensions,value, got ${cells.length}`);
    const [timeText, namespace, metricName, dimensionText, valueText] = cells as [string, string, string, string, string];
    const time = isoTime(timeText);
    if (Number.isNaN(time)) throw new ReplayInputError(`${where}: time "${timeText}" is not an ISO 8601 date and time with a zone, such as 2026-11-30T10:00:05.000Z`);
    if (time < this.lastMetricTime) throw new ReplayInputError(`${where}: time ${timeText} is earlier than the row before; sort the rows by time`);
    this.lastMetricTime = time;
    const value = Number(valueText);
    if (valueText === "" || !Number.isFinite(value)) throw new ReplayInputError(`${where}: value "${valueText}" is not a number`);
    if (!namespace || !metricName) throw new ReplayInputError(`${where}: namespace and metric must not be empty`);
    const dimensions: Record<string, string> = {};
    for (const pair of dimensionText.split(";").filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new ReplayInputError(`${where}: dimension "${pair}" is not Name=Value`);
      dimensions[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const minute = Math.floor(time / MINUTE) * MINUTE;
    this.span(minute, timeText, where);
    this.suppliedMetrics.add(`${namespace}|${metricName}`);
    this.add(metricKey({ namespace, metricName, dimensions }), minute, value);
  }

  private statistic(namespace: string, metricName: string, dimensions: Record<string, string>, stat: Statistic, start: number, periodMs: number, length: number): Float64Array {
    const byMinute = this.points.get(metricKey({ namespace, metricName, dimensions })) ?? this.points.get(metricKey({ namespace, metricName, dimensions: {} }));
    const out = new Float64Array(length).fill(NaN);
    if (!byMinute) return out;
    const aggs: (Aggregate | undefined)[] = new Array(length);
    for (const [minute, a] of byMinute) {
      const i = Math.floor((minute - start) / periodMs);
      if (i < 0 || i >= length) continue;
      const acc = aggs[i];
      if (!acc) aggs[i] = { ...a };
      else {
        acc.sum += a.sum;
        acc.count += a.count;
        acc.min = Math.min(acc.min, a.min);
        acc.max = Math.max(acc.max, a.max);
      }
    }
    aggs.forEach((a, i) => {
      if (!a) return;
      out[i] = stat === "Sum" ? a.sum : stat === "Minimum" ? a.min : stat === "Maximum" ? a.max : stat === "SampleCount" ? a.count : a.sum / a.count;
    });
    return out;
  }

  /** Evaluates every alarm of the plan over the replayed time range. */
  finish(): ReplayResult {
    this.closeMinute();
    const alarms = this.plan.alarms;
    const results = new Map<string, Transition[]>(alarms.map((a) => [a.name, []]));
    if (!Number.isFinite(this.firstMinute)) return { stack: this.plan.stack, alarms: alarms.map((a) => ({ name: a.name, transitions: [] })) };
    const start = this.firstMinute;
    const end = this.lastMinute + MINUTE;
    const metricAlarms = alarms.filter((a): a is ReplayMetricAlarm => a.kind === "metric").map((a) => this.prepare(a, start, end));
    const composites = alarms.filter((a): a is ReplayCompositeAlarm => a.kind === "composite").map((a) => ({ alarm: a, rule: parseRule(a.rule, a.name) }));
    const states = new Map<string, AlarmState>(alarms.map((a) => [a.name, "INSUFFICIENT_DATA"]));
    const move = (alarm: { name: string; alarmActions: string[]; okActions: string[]; insufficientDataActions: string[] }, to: AlarmState, at: number) => {
      const from = states.get(alarm.name) as AlarmState;
      if (from === to) return;
      states.set(alarm.name, to);
      const notifies = to === "ALARM" ? alarm.alarmActions : to === "OK" ? alarm.okActions : alarm.insufficientDataActions;
      (results.get(alarm.name) as Transition[]).push({ at: new Date(at).toISOString(), from, to, notifies: [...notifies] });
    };
    for (let at = start + MINUTE; at <= end; at += MINUTE) {
      for (const p of metricAlarms) {
        const next = evaluateAt(p, at, states.get(p.alarm.name) as AlarmState);
        if (next) move(p.alarm, next, at);
      }
      for (const c of composites) move(c.alarm, c.rule(states) ? "ALARM" : "OK", at);
    }
    return { stack: this.plan.stack, alarms: alarms.map((a) => ({ name: a.name, transitions: results.get(a.name) as Transition[] })) };
  }

  private prepare(alarm: ReplayMetricAlarm, start: number, end: number): Prepared {
    const periodMs = alarm.period * 1000;
    const alignedStart = Math.floor(start / periodMs) * periodMs;
    const length = Math.ceil((end - alignedStart) / periodMs) + 1;
    const series = new Map<string, MathValue>();
    for (const q of alarm.queries) {
      if (q.metric) series.set(q.id, this.statistic(q.metric.namespace, q.metric.metricName, q.metric.dimensions, q.metric.stat, alignedStart, periodMs, length));
      else if (q.expression !== undefined) series.set(q.id, evaluateMath(q.expression, { length, periodSeconds: alarm.period, series }));
    }
    const valueQuery = alarm.queries.find((q) => q.returnData && q.id !== alarm.thresholdMetricId);
    if (!valueQuery) throw new ReplayInputError(`plan: alarm ${alarm.name} returns no data`);
    const value = series.get(valueQuery.id) as MathValue;
    if (isBand(value)) throw new ReplayInputError(`plan: alarm ${alarm.name} alarms on a band instead of a metric`);
    let band: { lower: Float64Array; upper: Float64Array } | undefined;
    if (alarm.thresholdMetricId !== undefined) {
      const b = series.get(alarm.thresholdMetricId);
      if (!b || !isBand(b)) throw new ReplayInputError(`plan: alarm ${alarm.name}'s thresholdMetricId ${alarm.thresholdMetricId} is not an ANOMALY_DETECTION_BAND`);
      band = b;
    } else if (alarm.threshold === undefined) {
      throw new ReplayInputError(`plan: alarm ${alarm.name} has neither threshold nor thresholdMetricId`);
    }
    return { alarm, periodMs, alignedStart, start, value, band };
  }
}

interface Prepared {
  alarm: ReplayMetricAlarm;
  periodMs: number;
  alignedStart: number;
  /** The replay's first minute: periods starting earlier do not exist. */
  start: number;
  value: Float64Array;
  band?: { lower: Float64Array; upper: Float64Array };
}

function breaches(p: Prepared, i: number): boolean | undefined {
  const v = p.value[i] as number;
  if (Number.isNaN(v)) return undefined;
  const a = p.alarm;
  if (p.band) {
    const lo = p.band.lower[i] as number;
    const hi = p.band.upper[i] as number;
    if (Number.isNaN(hi)) return undefined;
    if (a.comparison === "GreaterThanUpperThreshold") return v > hi;
    if (a.comparison === "LessThanLowerThreshold") return v < lo;
    return v < lo || v > hi;
  }
  const t = a.threshold as number;
  switch (a.comparison) {
    case "GreaterThanThreshold":
      return v > t;
    case "GreaterThanOrEqualToThreshold":
      return v >= t;
    case "LessThanThreshold":
      return v < t;
    case "LessThanOrEqualToThreshold":
      return v <= t;
    default:
      throw new ReplayInputError(`plan: alarm ${a.name} compares with ${a.comparison} but has a static threshold`);
  }
}

/** The state an evaluation at `at` (ms) gives, or undefined while the alarm has no complete period. */
function evaluateAt(p: Prepared, at: number, current: AlarmState): AlarmState | undefined {
  const lastComplete = Math.floor((at - p.alignedStart) / p.periodMs) - 1;
  const indices: number[] = [];
  for (let i = lastComplete; i > lastComplete - p.alarm.evaluationPeriods && i >= 0; i--) {
    if (p.alignedStart + i * p.periodMs >= p.start) indices.push(i);
  }
  if (indices.length === 0) return undefined;
  const treat = p.alarm.treatMissingData;
  let breaching = 0;
  let present = 0;
  for (const i of indices) {
    const b = breaches(p, i);
    if (b === undefined) {
      if (treat === "breaching") breaching++;
      continue;
    }
    present++;
    if (b) breaching++;
  }
  if (present === 0) {
    if (treat === "ignore") return current === "INSUFFICIENT_DATA" ? undefined : current;
    if (treat === "missing") return "INSUFFICIENT_DATA";
  }
  return breaching >= p.alarm.datapointsToAlarm ? "ALARM" : "OK";
}
