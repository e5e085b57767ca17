import { RUNBOOK_ALARMS, SUPPORTING_ALARMS, WEBHOOK_INVALID_SIGNATURE_FLOOR } from "../../runbook";
import { HEALTH_CHECK_METRICS_REGION } from "./definitions";
import { LOG_METRICS, RECENT_5XX_QUERY } from "./logContract";

/**
 * The incident dashboard: alarm states first, then the six runbook signals, 5xx and latency,
 * database connections and storage, Redis memory and evictions, and the latest 5xx lines with
 * their X-Request-Id. Pure: the component resolves the ids and calls it once.
 */

export interface DashboardInput {
  region: string;
  namespace: string;
  healthCheckId: string;
  dbInstanceIdentifier: string;
  maxConnections: number;
  cacheMemberClusterIds: string[];
  /** ARNs of the alarms in the stack's region. */
  alarmArns: string[];
  /** ARN of the health alarm in us-east-1. */
  healthAlarmArn: string;
  logGroupNames: string[];
}

type MetricLine = (string | Record<string, unknown>)[];
interface Widget {
  type: "metric" | "alarm" | "log";
  title: string;
  properties: Record<string, unknown>;
}

const threshold = (key: string): number => {
  const found = [...RUNBOOK_ALARMS, ...SUPPORTING_ALARMS].find((r) => r.key === key);
  if (!found) throw new Error(`runbook.ts has no alarm "${key}"`);
  return found.threshold;
};

function metricWidget(title: string, region: string, metrics: MetricLine[], extra: Record<string, unknown> = {}): Widget {
  return { type: "metric", title, properties: { view: "timeSeries", stacked: false, region, metrics, ...extra } };
}

function line(label: string, value: number) {
  return { annotations: { horizontal: [{ label, value }] } };
}

function dashboardWidgets(input: DashboardInput): Widget[] {
  const { region, namespace: ns } = input;
  const cacheLines = (metricName: string, stat: string): MetricLine[] =>
    input.cacheMemberClusterIds.map((id) => ["AWS/ElastiCache", metricName, "CacheClusterId", id, { stat, period: 300 }]);
  return [
    { type: "alarm", title: "Runbook alarms (this region)", properties: { alarms: input.alarmArns, sortBy: "stateUpdatedTimestamp" } },
    { type: "alarm", title: "health_ready (us-east-1)", properties: { alarms: [input.healthAlarmArn] } },
    metricWidget(
      "5xx_rate (%)",
      region,
      [
        [{ expression: "100 * FILL(errors, 0) / FILL(requests, 1)", label: "5xx rate (%)", id: "rate" }],
        [ns, LOG_METRICS.serverErrors, { id: "errors", stat: "Sum", period: 60, visible: false }],
        [ns, LOG_METRICS.requests, { id: "requests", stat: "Sum", period: 60, visible: false }],
      ],
      line("page", threshold("api-5xx-rate")),
    ),
    metricWidget("Requests and latency (ms)", region, [
      [ns, LOG_METRICS.requests, { stat: "Sum", period: 60, label: "requests / min" }],
      [ns, LOG_METRICS.requestDuration, { stat: "p50", period: 60, yAxis: "right" }],
      [ns, LOG_METRICS.requestDuration, { stat: "p99", period: 60, yAxis: "right" }],
    ]),
    metricWidget(
      "health_ready (Route 53 HealthCheckStatus, 1 = ready)",
      HEALTH_CHECK_METRICS_REGION,
      [
        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", input.healthCheckId, { stat: "Minimum", period: 60 }],
        ["AWS/Route53", "TimeToFirstByte", "HealthCheckId", input.healthCheckId, { stat: "Average", period: 60, yAxis: "right" }],
      ],
    ),
    metricWidget("db_connectivity_failures (per 5 min)", region, [[ns, LOG_METRICS.dbConnectivityFailures, { stat: "Sum", period: 300 }]], line("page", threshold("db-connectivity-failures"))),
    metricWidget(
      "webhook_invalid_signature (per 5 min) and expected band",
      region,
      [
        [ns, LOG_METRICS.webhookInvalidSignatures, { id: "invalid", stat: "Sum", period: 300 }],
        [{ expression: `ANOMALY_DETECTION_BAND(invalid, ${threshold("webhook-invalid-signature-spike")})`, id: "band", label: "expected" }],
      ],
      line("floor", WEBHOOK_INVALID_SIGNATURE_FLOOR),
    ),
    metricWidget("Worker job failures in a row (consecutiveFailures)", region, [[ns, LOG_METRICS.workerConsecutiveFailures, { stat: "Maximum", period: 60 }]], line("page", threshold("worker-job-failures"))),
    metricWidget("workerLagMs", region, [[ns, LOG_METRICS.workerLag, { stat: "Maximum", period: 60 }]], line("page", threshold("worker-lag"))),
    metricWidget(
      "DB connections (% of max_connections)",
      region,
      [
        [{ expression: `100 * connections / ${input.maxConnections}`, id: "saturation", label: "% of max_connections" }],
        ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", input.dbInstanceIdentifier, { id: "connections", stat: "Maximum", period: 60, visible: false }],
      ],
      line("page", threshold("db-connection-saturation")),
    ),
    metricWidget("DB free storage (bytes) and CPU (%)", region, [
      ["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", input.dbInstanceIdentifier, { stat: "Minimum", period: 300 }],
      ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", input.dbInstanceIdentifier, { stat: "Average", period: 60, yAxis: "right" }],
    ]),
    metricWidget("Redis memory (%)", region, cacheLines("DatabaseMemoryUsagePercentage", "Maximum"), line("ticket", threshold("cache-memory-pressure"))),
    metricWidget("Redis evictions and current connections", region, [
      ...cacheLines("Evictions", "Sum"),
      ...input.cacheMemberClusterIds.map((id) => ["AWS/ElastiCache", "CurrConnections", "CacheClusterId", id, { stat: "Maximum", period: 300, yAxis: "right" }]),
    ]),
    {
      type: "log",
      title: "Latest 5xx: follow a requestId with the saved query",
      properties: { region, view: "table", query: `${input.logGroupNames.map((g) => `SOURCE '${g}'`).join(" | ")} | ${RECENT_5XX_QUERY.replace(/\n/g, " ")}` },
    },
  ];
}

/** The dashboard body: two widgets per row, 12 x 6 each. */
export function dashboardBody(input: DashboardInput): string {
  const widgets = dashboardWidgets(input).map((w, i) => ({
    type: w.type,
    x: (i % 2) * 12,
    y: Math.floor(i / 2) * 6,
    width: 12,
    height: 6,
    properties: { title: w.title, ...w.properties },
  }));
  return JSON.stringify({ start: "-PT3H", periodOverride: "inherit", widgets });
}
