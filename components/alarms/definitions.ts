import * as pulumi from "@pulumi/pulumi";
import {
  RUNBOOK_ALARMS,
  SUPPORTING_ALARMS,
  WEBHOOK_INVALID_SIGNATURE_FLOOR,
  type AlarmRoute,
  type Comparison,
  type MissingData,
  type RunbookAlarm,
  type RunbookAlarmKey,
  type SupportingAlarmKey,
} from "../../runbook";
import { LOG_METRICS } from "./logContract";

/**
 * Turns the runbook's alarm table into CloudWatch alarm definitions: which metric, which math,
 * which region. Every number comes from runbook.ts; this file only says where each signal lives.
 */

/** Route 53 publishes health-check metrics only in us-east-1; the alarm must live there too. */
export const HEALTH_CHECK_METRICS_REGION = "us-east-1";

export type AlarmTableKey = RunbookAlarmKey | SupportingAlarmKey;

/** The webhook row becomes two member alarms (`-band`, `-floor`) and one composite that notifies. */
const WEBHOOK_KEY = "webhook-invalid-signature-spike" satisfies RunbookAlarmKey;

export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions?: Record<string, pulumi.Input<string>>;
  stat: RunbookAlarm["statistic"];
  period: number;
}

export interface AlarmQuery {
  id: string;
  metric?: MetricRef;
  expression?: pulumi.Input<string>;
  label?: string;
  returnData: boolean;
}

/** One CloudWatch alarm to create. */
export interface AlarmDefinition {
  /** Unique key: the table key, or the table key plus a suffix for the webhook pair. */
  key: string;
  /** The table row it implements. */
  row: RunbookAlarm & { key: AlarmTableKey };
  route: AlarmRoute;
  /** False for the webhook pair's two members: their composite notifies, once. */
  notify: boolean;
  /** Set only where the metric lives outside the stack's region. */
  region?: string;
  description: string;
  comparison: Comparison;
  threshold?: number;
  thresholdMetricId?: string;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: MissingData;
  /** A single metric, or `queries` for metric math; never both. */
  metric?: MetricRef;
  queries?: AlarmQuery[];
}

/** Where the signals live: ids the other components own. */
export interface AlarmSources {
  /** Namespace of the log-derived metrics. */
  namespace: string;
  healthCheckId: pulumi.Input<string>;
  dbInstanceIdentifier: pulumi.Input<string>;
  /** PostgreSQL max_connections. */
  maxConnections: pulumi.Input<number>;
  /** Initial allocated storage in GiB (`database.allocatedStorageGb`); the free-storage floor is a share of it. */
  allocatedStorageGb: number;
  /** ElastiCache member cluster ids (`<replication-group>-001`, ...): node metrics are per member. */
  cacheMemberClusterIds: pulumi.Input<string>[];
}

const ROUTE_TEXT: Record<AlarmRoute, string> = { page: "page on-call", ticket: "high-priority ticket" };

function row<K extends AlarmTableKey>(key: K): RunbookAlarm & { key: K } {
  const found = [...RUNBOOK_ALARMS, ...SUPPORTING_ALARMS].find((r) => r.key === key);
  if (!found) throw new Error(`runbook.ts has no alarm "${key}"`);
  return found as unknown as RunbookAlarm & { key: K };
}

/** The runbook section a row quotes. */
function runbookSection(key: AlarmTableKey): string {
  if (RUNBOOK_ALARMS.some((r) => r.key === key)) return "Alerts and on-call thresholds";
  return key.startsWith("db-") ? "Incident response quick steps" : "Deployment topology";
}

/** An alarm description: the runbook line quoted, the route, how it is measured, why missing data is treated so. */
function describeAlarm(r: RunbookAlarm & { key: AlarmTableKey }, measured: string): string {
  const text = [
    `Runbook "${runbookSection(r.key)}": "${r.runbookLine}" -> ${ROUTE_TEXT[r.route]}.`,
    `Alarms when ${measured}.`,
    `Missing data: ${r.treatMissingData} (${r.missingDataReason}).`,
    "Then: confirm /health/live and /health/ready, inspect logs by X-Request-Id, run npm run ops:incident-check.",
  ].join(" ");
  if (text.length > 1024) throw new Error(`alarm description for ${r.key} is ${text.length} characters; CloudWatch allows 1024`);
  return text;
}

const COMPARISON_TEXT: Record<Comparison, string> = {
  GreaterThanThreshold: ">",
  GreaterThanOrEqualToThreshold: ">=",
  LessThanThreshold: "<",
  GreaterThanUpperThreshold: "above the upper band of",
};

function window(r: RunbookAlarm): string {
  return `${r.datapointsToAlarm} of ${r.evaluationPeriods} ${r.periodSeconds}-second periods`;
}

function base(r: RunbookAlarm & { key: AlarmTableKey }, measured: string): Omit<AlarmDefinition, "metric" | "queries"> {
  return {
    key: r.key,
    row: r,
    route: r.route,
    notify: true,
    description: describeAlarm(r, `${measured} ${COMPARISON_TEXT[r.comparison]} ${r.threshold} in ${window(r)}`),
    comparison: r.comparison,
    threshold: r.threshold,
    evaluationPeriods: r.evaluationPeriods,
    datapointsToAlarm: r.datapointsToAlarm,
    treatMissingData: r.treatMissingData,
  };
}

function logMetric(src: AlarmSources, metricName: string, r: RunbookAlarm): MetricRef {
  return { namespace: src.namespace, metricName, stat: r.statistic, period: r.periodSeconds };
}

/** One query per cache member, combined with `combine` (MAX or SUM) when there is more than one. */
function perCacheMember(src: AlarmSources, metricName: string, r: RunbookAlarm, combine: "MAX" | "SUM"): Pick<AlarmDefinition, "metric" | "queries"> {
  const metrics = src.cacheMemberClusterIds.map((id) => ({
    namespace: "AWS/ElastiCache",
    metricName,
    dimensions: { CacheClusterId: id },
    stat: r.statistic,
    period: r.periodSeconds,
  }));
  if (metrics.length === 1) return { metric: metrics[0] as MetricRef };
  const ids = metrics.map((_, i) => `node${i}`);
  return {
    queries: [
      ...metrics.map((metric, i) => ({ id: ids[i] as string, metric, returnData: false })),
      { id: "combined", expression: `${combine}([${ids.join(", ")}])`, label: `${combine} over ${metrics.length} nodes`, returnData: true },
    ],
  };
}

/** The free-storage floor in bytes: `percent` of the initial allocation (see DB_FREE_STORAGE_FLOOR_PERCENT). */
function storageFloorBytes(allocatedStorageGb: number, percent: number): number {
  return Math.floor((allocatedStorageGb * 1024 ** 3 * percent) / 100);
}

/** Every alarm the component creates, in table order. */
export function alarmDefinitions(src: AlarmSources): AlarmDefinition[] {
  if (src.cacheMemberClusterIds.length === 0) throw new Error("Alarms: cacheMemberClusterIds is empty; pass the replication group's member cluster ids.");

  const rate = row("api-5xx-rate");
  const ready = row("health-ready");
  const dbFailures = row("db-connectivity-failures");
  const webhook = row(WEBHOOK_KEY);
  const jobs = row("worker-job-failures");
  const lag = row("worker-lag");
  const saturation = row("db-connection-saturation");
  const storage = row("db-low-free-storage");
  const cacheMemory = row("cache-memory-pressure");
  const evictions = row("cache-evictions");

  const webhookFloor: RunbookAlarm & { key: AlarmTableKey } = {
    ...webhook,
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: WEBHOOK_INVALID_SIGNATURE_FLOOR,
  };
  const rds = (metricName: string, r: RunbookAlarm): MetricRef => ({
    namespace: "AWS/RDS",
    metricName,
    dimensions: { DBInstanceIdentifier: src.dbInstanceIdentifier },
    stat: r.statistic,
    period: r.periodSeconds,
  });

  return [
    {
      ...base(rate, "100 x 5xx / requests (%), no traffic counted as 0 %,"),
      queries: [
        { id: "errors", metric: logMetric(src, LOG_METRICS.serverErrors, rate), returnData: false },
        { id: "requests", metric: logMetric(src, LOG_METRICS.requests, rate), returnData: false },
        // No requests: FILL(requests, 1) makes the rate 0 instead of a division by zero.
        { id: "rate", expression: "100 * FILL(errors, 0) / FILL(requests, 1)", label: "5xx rate (%)", returnData: true },
      ],
    },
    {
      ...base(ready, `the Route 53 check of /health/ready (HealthCheckStatus, 1 healthy, 0 not) is`),
      region: HEALTH_CHECK_METRICS_REGION,
      metric: {
        namespace: "AWS/Route53",
        metricName: "HealthCheckStatus",
        dimensions: { HealthCheckId: src.healthCheckId },
        stat: ready.statistic,
        period: ready.periodSeconds,
      },
    },
    { ...base(dbFailures, `the count of db_connectivity_failure log events (API and worker)`), metric: logMetric(src, LOG_METRICS.dbConnectivityFailures, dbFailures) },
    {
      ...base(webhook, "webhook_invalid_signature events per period are"),
      key: `${webhook.key}-band`,
      notify: false,
      threshold: undefined,
      thresholdMetricId: "band",
      queries: [
        { id: "invalid", metric: logMetric(src, LOG_METRICS.webhookInvalidSignatures, webhook), label: "invalid webhook signatures", returnData: true },
        { id: "band", expression: `ANOMALY_DETECTION_BAND(invalid, ${webhook.threshold})`, label: `expected (${webhook.threshold} standard deviations)`, returnData: true },
      ],
    },
    {
      ...base(webhookFloor, "webhook_invalid_signature events per period are"),
      key: `${webhook.key}-floor`,
      notify: false,
      metric: logMetric(src, LOG_METRICS.webhookInvalidSignatures, webhook),
    },
    { ...base(jobs, "a worker_run reports consecutiveFailures (failed runs of its job in a row, counted by the worker whatever the schedule)"), metric: logMetric(src, LOG_METRICS.workerConsecutiveFailures, jobs) },
    { ...base(lag, "the worker's reported workerLagMs (ms) is"), metric: logMetric(src, LOG_METRICS.workerLag, lag) },
    {
      ...base(saturation, "DatabaseConnections as a percentage of max_connections is"),
      queries: [
        { id: "connections", metric: rds("DatabaseConnections", saturation), returnData: false },
        { id: "saturation", expression: pulumi.interpolate`100 * connections / ${src.maxConnections}`, label: "connections (% of max_connections)", returnData: true },
      ],
    },
    {
      ...base(storage, "FreeStorageSpace (bytes)"),
      description: describeAlarm(
        storage,
        `FreeStorageSpace < ${storageFloorBytes(src.allocatedStorageGb, storage.threshold)} bytes (${storage.threshold}% of the initial ${src.allocatedStorageGb} GiB, an absolute floor: autoscaling keeps free space above 10% of the current allocation, so it falls below this only when autoscaling cannot grow the volume) in ${window(storage)}`,
      ),
      threshold: storageFloorBytes(src.allocatedStorageGb, storage.threshold),
      metric: rds("FreeStorageSpace", storage),
    },
    { ...base(cacheMemory, "the highest DatabaseMemoryUsagePercentage of any cache node is"), ...perCacheMember(src, "DatabaseMemoryUsagePercentage", cacheMemory, "MAX") },
    { ...base(evictions, "Evictions summed over the cache nodes are"), ...perCacheMember(src, "Evictions", evictions, "SUM") },
  ];
}

/** The webhook composite: ALARM(band) OR ALARM(floor), the one alarm of the pair that notifies. */
export interface CompositeDefinition {
  key: typeof WEBHOOK_KEY;
  row: RunbookAlarm & { key: AlarmTableKey };
  route: AlarmRoute;
  description: string;
  /** Definition keys of the members, in rule order. */
  members: [string, string];
}

export function webhookComposite(): CompositeDefinition {
  const r = row(WEBHOOK_KEY);
  return {
    key: WEBHOOK_KEY,
    row: r,
    route: r.route,
    description: describeAlarm(
      r,
      `invalid webhook signatures per ${r.periodSeconds}-second period rise above the anomaly band (${r.threshold} standard deviations) OR reach the static floor of ${WEBHOOK_INVALID_SIGNATURE_FLOOR}, which a quiet or untrained baseline cannot hide`,
    ),
    members: [`${WEBHOOK_KEY}-band`, `${WEBHOOK_KEY}-floor`],
  };
}
