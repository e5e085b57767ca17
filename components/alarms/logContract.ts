/**
 * The structured-log contract between the application and the alarms: the API and the worker
 * write one JSON object per line to stdout, the cluster ships those lines to the log groups the
 * Alarms component creates, and the metric filters below turn them into the metrics the runbook's
 * alarms read. A field renamed in the application silently breaks an alarm, so this table is the
 * one place the names live; the README's log-contract section is printed from it.
 */

/** Which process writes a log group. */
export type LogSource = "api" | "worker";

interface LogField {
  /** JSON key, exactly as written. */
  name: string;
  type: "string" | "number" | "integer";
  emittedBy: readonly LogSource[];
  /** What it holds and when it is present. */
  meaning: string;
}

/** Every field an alarm, a metric filter, the dashboard or the saved query reads. */
export const LOG_FIELDS = [
  { name: "time", type: "string", emittedBy: ["api", "worker"], meaning: "ISO-8601 timestamp of the event" },
  { name: "level", type: "string", emittedBy: ["api", "worker"], meaning: "debug | info | warn | error" },
  { name: "event", type: "string", emittedBy: ["api", "worker"], meaning: "what happened: one of LOG_EVENTS' names" },
  { name: "requestId", type: "string", emittedBy: ["api", "worker"], meaning: "the X-Request-Id of the request (echoed from the client or generated), on every line written while serving it, and on worker lines of jobs it enqueued" },
  { name: "method", type: "string", emittedBy: ["api"], meaning: "HTTP method (http_request)" },
  { name: "path", type: "string", emittedBy: ["api"], meaning: "route template, never the raw URL with ids or tokens (http_request)" },
  { name: "status", type: "integer", emittedBy: ["api"], meaning: "HTTP status code sent (http_request); always a number" },
  { name: "durationMs", type: "number", emittedBy: ["api", "worker"], meaning: "milliseconds to serve the request (http_request) or run the job (worker_run)" },
  { name: "job", type: "string", emittedBy: ["worker"], meaning: "job name (worker_run)" },
  { name: "outcome", type: "string", emittedBy: ["worker"], meaning: "succeeded | failed (worker_run)" },
  { name: "consecutiveFailures", type: "integer", emittedBy: ["worker"], meaning: "runs of this job that failed in a row, ending with this one: 0 when it succeeded, 2 on the second failure in a row; counted from the job's run history in PostgreSQL, so restarts and replicas share it (worker_run)" },
  { name: "workerLagMs", type: "integer", emittedBy: ["worker"], meaning: "now minus the enqueue time of the oldest pending job, 0 when idle (worker_lag)" },
  { name: "error", type: "string", emittedBy: ["api", "worker"], meaning: "error message, never credentials or a connection string" },
] as const satisfies readonly LogField[];

type LogFieldName = (typeof LOG_FIELDS)[number]["name"];

interface LogEvent {
  name: string;
  emittedBy: LogSource;
  /** Fields the line must carry besides time, level and event. */
  requiredFields: readonly LogFieldName[];
  when: string;
}

export const LOG_EVENTS = [
  { name: "http_request", emittedBy: "api", requiredFields: ["requestId", "method", "path", "status", "durationMs"], when: "once per HTTP response, health probes included" },
  { name: "db_connectivity_failure", emittedBy: "api", requiredFields: ["error"], when: "each failed attempt to connect to or query PostgreSQL because it is unreachable" },
  { name: "db_connectivity_failure", emittedBy: "worker", requiredFields: ["error"], when: "as for the API" },
  { name: "webhook_invalid_signature", emittedBy: "api", requiredFields: ["requestId", "path"], when: "each webhook whose signature fails to verify" },
  { name: "worker_run", emittedBy: "worker", requiredFields: ["job", "outcome", "consecutiveFailures", "durationMs"], when: "exactly once at the end of each run, whatever the job's schedule" },
  { name: "worker_lag", emittedBy: "worker", requiredFields: ["workerLagMs"], when: "at least once a minute, idle or not (silence pages)" },
] as const satisfies readonly LogEvent[];

/** The custom metrics the filters publish, by role. */
export const LOG_METRICS = {
  requests: "HttpRequests",
  serverErrors: "Http5xx",
  requestDuration: "HttpRequestDurationMs",
  dbConnectivityFailures: "DbConnectivityFailures",
  webhookInvalidSignatures: "WebhookInvalidSignatures",
  workerConsecutiveFailures: "WorkerConsecutiveFailures",
  workerLag: "WorkerLagMs",
} as const;

export interface MetricFilterSpec {
  /** Stable key: the filter's logical and physical name suffix. */
  key: string;
  logGroup: LogSource;
  /** CloudWatch Logs JSON filter pattern. */
  pattern: string;
  metricName: (typeof LOG_METRICS)[keyof typeof LOG_METRICS];
  /** A literal or `$.field` (the field must appear in the pattern). */
  value: string;
  /** Emitted for log events that do not match; unset where a zero would distort the metric. */
  defaultValue?: string;
  unit: "Count" | "Milliseconds" | "None";
}

/**
 * The filters behind the alarms and the dashboard. Requests and 5xx carry no default value: the
 * 5xx rate's FILL(requests, 1) then turns "no traffic" into 0 % instead of a division by zero.
 */
export const METRIC_FILTERS = [
  { key: "http-requests", logGroup: "api", pattern: '{ $.event = "http_request" }', metricName: LOG_METRICS.requests, value: "1", unit: "Count" },
  { key: "http-5xx", logGroup: "api", pattern: '{ $.event = "http_request" && $.status >= 500 }', metricName: LOG_METRICS.serverErrors, value: "1", unit: "Count" },
  { key: "http-duration", logGroup: "api", pattern: '{ $.event = "http_request" && $.durationMs = * }', metricName: LOG_METRICS.requestDuration, value: "$.durationMs", unit: "Milliseconds" },
  { key: "api-db-connectivity-failures", logGroup: "api", pattern: '{ $.event = "db_connectivity_failure" }', metricName: LOG_METRICS.dbConnectivityFailures, value: "1", defaultValue: "0", unit: "Count" },
  { key: "worker-db-connectivity-failures", logGroup: "worker", pattern: '{ $.event = "db_connectivity_failure" }', metricName: LOG_METRICS.dbConnectivityFailures, value: "1", defaultValue: "0", unit: "Count" },
  // The default 0 gives the anomaly model a baseline to learn from in quiet periods.
  { key: "webhook-invalid-signatures", logGroup: "api", pattern: '{ $.event = "webhook_invalid_signature" }', metricName: LOG_METRICS.webhookInvalidSignatures, value: "1", defaultValue: "0", unit: "Count" },
  { key: "worker-consecutive-failures", logGroup: "worker", pattern: '{ $.event = "worker_run" && $.consecutiveFailures >= 0 }', metricName: LOG_METRICS.workerConsecutiveFailures, value: "$.consecutiveFailures", unit: "Count" },
  { key: "worker-lag", logGroup: "worker", pattern: '{ $.event = "worker_lag" && $.workerLagMs = * }', metricName: LOG_METRICS.workerLag, value: "$.workerLagMs", unit: "Milliseconds" },
] as const satisfies readonly MetricFilterSpec[];

/** The `$.field` names a filter pattern or value reads. */
export function fieldsReadBy(filter: Pick<MetricFilterSpec, "pattern" | "value">): string[] {
  const names = [...`${filter.pattern} ${filter.value}`.matchAll(/\$\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
  return [...new Set(names)];
}

/** Logs Insights: every line of one request, API and worker, in order. */
const REQUEST_ID_PLACEHOLDER = "REPLACE-WITH-X-REQUEST-ID";
export const REQUEST_ID_QUERY = [
  "fields @timestamp, @log, level, event, method, path, status, durationMs, job, outcome, error, @message",
  `| filter requestId = "${REQUEST_ID_PLACEHOLDER}"`,
  "| sort @timestamp asc",
  "| limit 10000",
].join("\n");

/** Logs Insights on the dashboard: the latest server errors with the request id to follow. */
export const RECENT_5XX_QUERY = [
  "fields @timestamp, requestId, method, path, status, durationMs, error",
  '| filter event = "http_request" and status >= 500',
  "| sort @timestamp desc",
  "| limit 50",
].join("\n");
