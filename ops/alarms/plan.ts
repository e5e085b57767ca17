import { z } from "zod";
import { parseFilterPattern, type ParsedFilterPattern } from "./filterPattern";

/**
 * What the alarm replay needs from a stack's offline plan (`npm run -s start -- --stack <s> --json`):
 * the log groups, metric filters, metric alarms and composite alarms with the inputs `pulumi up`
 * would send. Plain data, no Pulumi: the replay reads the plan the preview wrote, or one the CLI
 * builds in-process.
 */

/** One resource of the plan, as scripts/preview.ts writes it. */
export interface PlanResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface PlanDocument {
  stack: string;
  resources: PlanResource[];
}

/** The part of scripts/preview.ts's `--json` document the replay reads; other keys are dropped. */
const planDocumentSchema = z.object({
  stack: z.string().min(1),
  resources: z.array(z.object({ type: z.string(), name: z.string(), inputs: z.record(z.string(), z.unknown()) })),
});

/** `resources[3].inputs` for zod's `["resources", 3, "inputs"]`. */
function issuePath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("") || "(the document)";
}

/**
 * A parsed plan file checked for the shape the replay reads: `{ stack, resources: [{ type, name,
 * inputs }] }`. Returns the document, or the problems as one line naming each bad path
 * (`resources[1]: expected object, received null`), at most five.
 */
export function parsePlanDocument(doc: unknown): PlanDocument | string {
  const parsed = planDocumentSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const shown = issues.slice(0, 5).map((i) => `${issuePath(i.path)}: ${i.message.replace(/^Invalid input: /, "")}`);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  return shown.join("; ");
}

const TYPES = {
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  metricFilter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  compositeAlarm: "aws:cloudwatch/compositeAlarm:CompositeAlarm",
} as const;

export type Statistic = "Sum" | "Minimum" | "Maximum" | "Average" | "SampleCount";
export type MissingData = "breaching" | "notBreaching" | "ignore" | "missing";
export type ComparisonOperator =
  | "GreaterThanThreshold"
  | "GreaterThanOrEqualToThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold"
  | "GreaterThanUpperThreshold"
  | "LessThanLowerThreshold"
  | "LessThanLowerOrGreaterThanUpperThreshold";

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

export interface ReplayFilter {
  /** The plan's logical name, e.g. `alarms-http-5xx`. */
  resource: string;
  logGroupName: string;
  pattern: ParsedFilterPattern;
  metric: MetricId;
  value: string;
  defaultValue?: number;
}

export interface ReplayQuery {
  id: string;
  returnData: boolean;
  expression?: string;
  metric?: MetricId & { stat: Statistic; period: number };
}

export interface ReplayMetricAlarm {
  kind: "metric";
  resource: string;
  name: string;
  comparison: ComparisonOperator;
  threshold?: number;
  thresholdMetricId?: string;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: MissingData;
  /** The period every query shares (CloudWatch requires one period per alarm). */
  period: number;
  queries: ReplayQuery[];
  alarmActions: string[];
  okActions: string[];
  insufficientDataActions: string[];
}

export interface ReplayCompositeAlarm {
  kind: "composite";
  resource: string;
  name: string;
  rule: string;
  alarmActions: string[];
  okActions: string[];
  insufficientDataActions: string[];
}

export interface ReplayPlan {
  stack: string;
  logGroupNames: string[];
  filters: ReplayFilter[];
  alarms: (ReplayMetricAlarm | ReplayCompositeAlarm)[];
}

/** A plan that lacks or misshapes what the replay reads; names the resource and the input. */
export class PlanError extends Error {
  constructor(resource: string, detail: string) {
    super(`plan resource ${resource}: ${detail}`);
    this.name = "PlanError";
  }
}

const STATISTICS: readonly string[] = ["Sum", "Minimum", "Maximum", "Average", "SampleCount"];
const MISSING: readonly string[] = ["breaching", "notBreaching", "ignore", "missing"];

function str(r: PlanResource, key: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new PlanError(r.name, `${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}
function num(r: PlanResource, key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new PlanError(r.name, `${key} must be a number, got ${JSON.stringify(value)}`);
  return value;
}
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
function dims(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function filterOf(r: PlanResource): ReplayFilter {
  const t = r.inputs.metricTransformation as Record<string, unknown> | undefined;
  if (!t) throw new PlanError(r.name, "metricTransformation is missing");
  const pattern = str(r, "pattern", r.inputs.pattern);
  const defaultValue = t.defaultValue === undefined ? undefined : Number(t.defaultValue);
  if (defaultValue !== undefined && !Number.isFinite(defaultValue)) throw new PlanError(r.name, `metricTransformation.defaultValue ${JSON.stringify(t.defaultValue)} is not a number`);
  return {
    resource: r.name,
    logGroupName: str(r, "logGroupName", r.inputs.logGroupName),
    pattern: parseFilterPattern(pattern),
    metric: { namespace: str(r, "metricTransformation.namespace", t.namespace), metricName: str(r, "metricTransformation.name", t.name), dimensions: dims(t.dimensions) },
    value: str(r, "metricTransformation.value", t.value),
    ...(defaultValue === undefined ? {} : { defaultValue }),
  };
}

function metricAlarmOf(r: PlanResource): ReplayMetricAlarm {
  const i = r.inputs;
  const queries: ReplayQuery[] = [];
  if (Array.isArray(i.metricQueries) && i.metricQueries.length > 0) {
    for (const [n, item] of (i.metricQueries as unknown[]).entries()) {
      if (item === null || typeof item !== "object" || Array.isArray(item)) throw new PlanError(r.name, `metricQueries[${n}] must be an object, got ${JSON.stringify(item)}`);
      const raw = item as Record<string, unknown>;
      const id = str(r, `metricQueries[${n}].id`, raw.id);
      const m = raw.metric as Record<string, unknown> | undefined;
      const stat = m ? str(r, `metricQueries[${n}].metric.stat`, m.stat) : undefined;
      if (stat !== undefined && !STATISTICS.includes(stat)) throw new PlanError(r.name, `metricQueries[${n}].metric.stat "${stat}" is not one the replay computes (${STATISTICS.join(", ")})`);
      queries.push({
        id,
        returnData: raw.returnData === true,
        ...(typeof raw.expression === "string" ? { expression: raw.expression } : {}),
        ...(m
          ? {
              metric: {
                namespace: str(r, `metricQueries[${n}].metric.namespace`, m.namespace),
                metricName: str(r, `metricQueries[${n}].metric.metricName`, m.metricName),
                dimensions: dims(m.dimensions),
                stat: stat as Statistic,
                period: num(r, `metricQueries[${n}].metric.period`, m.period),
              },
            }
          : {}),
      });
    }
  } else {
    const stat = str(r, "statistic", i.statistic);
    if (!STATISTICS.includes(stat)) throw new PlanError(r.name, `statistic "${stat}" is not one the replay computes`);
    queries.push({
      id: "m1",
      returnData: true,
      metric: { namespace: str(r, "namespace", i.namespace), metricName: str(r, "metricName", i.metricName), dimensions: dims(i.dimensions), stat: stat as Statistic, period: num(r, "period", i.period) },
    });
  }
  const periods = [...new Set(queries.flatMap((q) => (q.metric ? [q.metric.period] : [])))];
  if (periods.length !== 1) throw new PlanError(r.name, `its metrics use ${periods.length === 0 ? "no" : "different"} periods (${periods.join(", ")}); CloudWatch needs exactly one`);
  const treat = typeof i.treatMissingData === "string" ? i.treatMissingData : "missing";
  if (!MISSING.includes(treat)) throw new PlanError(r.name, `treatMissingData "${treat}" is not one of ${MISSING.join(", ")}`);
  const evaluationPeriods = num(r, "evaluationPeriods", i.evaluationPeriods);
  const datapointsToAlarm = i.datapointsToAlarm === undefined ? evaluationPeriods : num(r, "datapointsToAlarm", i.datapointsToAlarm);
  assertEvaluationWindow(r.name, periods[0] as number, evaluationPeriods, datapointsToAlarm);
  return {
    kind: "metric",
    resource: r.name,
    name: str(r, "name", i.name),
    comparison: str(r, "comparisonOperator", i.comparisonOperator) as ComparisonOperator,
    ...(typeof i.threshold === "number" ? { threshold: i.threshold } : {}),
    ...(typeof i.thresholdMetricId === "string" ? { thresholdMetricId: i.thresholdMetricId } : {}),
    evaluationPeriods,
    datapointsToAlarm,
    treatMissingData: treat as MissingData,
    period: periods[0] as number,
    queries,
    alarmActions: strings(i.alarmActions),
    okActions: strings(i.okActions),
    insufficientDataActions: strings(i.insufficientDataActions),
  };
}

/**
 * The replay's view of a plan document.
 * @throws PlanError naming the resource whose inputs the replay cannot read;
 *   FilterPatternError for a pattern CloudWatch would refuse.
 */
export function replayPlan(plan: PlanDocument): ReplayPlan {
  const of = (type: string) => plan.resources.filter((r) => r.type === type);
  const alarms: (ReplayMetricAlarm | ReplayCompositeAlarm)[] = of(TYPES.metricAlarm).map(metricAlarmOf);
  for (const r of of(TYPES.compositeAlarm)) {
    alarms.push({
      kind: "composite",
      resource: r.name,
      name: str(r, "alarmName", r.inputs.alarmName),
      rule: str(r, "alarmRule", r.inputs.alarmRule),
      alarmActions: strings(r.inputs.alarmActions),
      okActions: strings(r.inputs.okActions),
      insufficientDataActions: strings(r.inputs.insufficientDataActions),
    });
  }
  return {
    stack: plan.stack,
    logGroupNames: of(TYPES.logGroup).map((r) => str(r, "name", r.inputs.name)),
    filters: of(TYPES.metricFilter).map((r) => {
      try {
        return filterOf(r);
      } catch (error) {
        if (error instanceof PlanError) throw error;
        throw new PlanError(r.name, (error as Error).message);
      }
    }),
    alarms,
  };
}

/** A stable key for a metric: namespace, name and sorted dimensions. */
export function metricKey(m: MetricId): string {
  const d = Object.entries(m.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
  return `${m.namespace}|${m.metricName}|${d}`;
}

/**
 * The evaluation window PutMetricAlarm accepts (CloudWatch API reference, PutMetricAlarm: Period,
 * EvaluationPeriods, DatapointsToAlarm): a period of 10, 20, 30 or a multiple of 60 seconds; at
 * least one evaluation period, and period times evaluation periods at most one day when the period
 * is under an hour, else seven days; 1 to EvaluationPeriods datapoints to alarm.
 * @throws PlanError naming the alarm and the value CloudWatch would refuse
 */
function assertEvaluationWindow(resource: string, period: number, evaluationPeriods: number, datapointsToAlarm: number): void {
  if (!(period === 10 || period === 20 || period === 30 || (Number.isInteger(period) && period > 0 && period % 60 === 0))) {
    throw new PlanError(resource, `period ${period} s is not one CloudWatch accepts (10, 20, 30 or a multiple of 60)`);
  }
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) throw new PlanError(resource, `evaluationPeriods ${evaluationPeriods} is not a whole number of at least 1`);
  const limit = period < 3600 ? 86_400 : 604_800;
  if (period * evaluationPeriods > limit) {
    throw new PlanError(resource, `period ${period} s x evaluationPeriods ${evaluationPeriods} is more than CloudWatch's ${limit} s evaluation range`);
  }
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw new PlanError(resource, `datapointsToAlarm ${datapointsToAlarm} is not a whole number from 1 to evaluationPeriods (${evaluationPeriods})`);
  }
}
