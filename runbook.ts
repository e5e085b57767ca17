/**
 * The runbook's numbers, in one typed table. Components, config validation, policies, the README
 * and the tests all read these values; nothing else states them (../shared/RUNBOOK.md).
 */

/** The Pulumi project; config keys are `runbook-platform:<key>`. */
export const PROJECT = "runbook-platform";

/**
 * "Shared cache: Redis (webhook replay protection + distributed rate limiting)": the maxmemory
 * policies that never drop a replay-protection or rate-limit key. `noeviction` refuses writes when
 * memory is full, so the replay guard fails closed. Not `volatile-ttl`: every replay and rate-limit
 * key has a TTL, so it evicts exactly those keys first, reopening the replay window. The config
 * schema, the Cache component, the policy `aws-elasticache-non-evicting` and the incident check
 * all read this list.
 */
export const REPLAY_SAFE_MAXMEMORY_POLICIES = ["noeviction"] as const;
export type ReplaySafeMaxmemoryPolicy = (typeof REPLAY_SAFE_MAXMEMORY_POLICIES)[number];

/**
 * The environments of the runbook's promotion flow ("`dev` -> `staging`", then "Promote same
 * artifact to production"). Each stack file declares one (`environment: staging`); it decides the
 * per-environment rules, defaults and policies, whatever the stack is called (dev, staging-eu, prod).
 */
export const ENVIRONMENTS = ["staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * The stacks this repository ships a file for (Pulumi.staging.yaml, Pulumi.production.yaml), each of
 * the environment of the same name. A team adds its own stacks under any name.
 */
export const STACKS = ["staging", "production"] as const satisfies readonly Environment[];
export type StackName = (typeof STACKS)[number];

/** "Keep PITR enabled": automated backups kept at least this many days (RDS allows 1-35). */
export const MIN_BACKUP_RETENTION_DAYS: Record<Environment, number> = {
  staging: 7,
  production: 14,
};

/** RDS keeps automated backups (and so PITR) for at most 35 days. */
export const MAX_BACKUP_RETENTION_DAYS = 35;

/** "Weekly restore test": the drill runs once per ISO week. */
export const RESTORE_DRILL_CADENCE = "weekly" as const;

/**
 * "Weekly restore test": Pulumi Deployments runs `pulumi up` on every stack at this time (UTC, five
 * fields: Mondays 04:00, after the 03:00 daily backup), and the drill's ISO-week window makes that
 * run restore and check the latest snapshot.
 */
export const RESTORE_DRILL_CRON = "0 4 * * 1";

/** Where an alarm goes: `page` wakes the on-call engineer, `ticket` opens a high-priority ticket. */
export type AlarmRoute = "page" | "ticket";

/** How CloudWatch treats periods without data; chosen per alarm, never left to the default. */
export type MissingData = "breaching" | "notBreaching" | "ignore" | "missing";

export type Comparison =
  | "GreaterThanThreshold"
  | "GreaterThanOrEqualToThreshold"
  | "LessThanThreshold"
  | "GreaterThanUpperThreshold";

/** One line of the runbook's "Alerts and on-call thresholds" section. */
export interface RunbookAlarm {
  /** Stable key used for resource names and policy lookups. */
  key: string;
  /** The runbook line, quoted exactly; alarm descriptions quote it. */
  runbookLine: string;
  route: AlarmRoute;
  /** Statistic applied to the metric over one period. */
  statistic: "Sum" | "Maximum" | "Minimum" | "Average";
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  comparison: Comparison;
  /** The threshold in the alarm's unit (percent, count, milliseconds, health-check status). */
  threshold: number;
  treatMissingData: MissingData;
  /** Why missing data is treated this way. */
  missingDataReason: string;
}

/**
 * The six runbook alarms. Read as: alarm when `statistic` over `periodSeconds` compares
 * `comparison` to `threshold` in `datapointsToAlarm` of `evaluationPeriods` periods.
 */
export const RUNBOOK_ALARMS = [
  {
    key: "api-5xx-rate",
    runbookLine: "5xx_rate > 2% for 5m",
    route: "page",
    statistic: "Sum",
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    comparison: "GreaterThanThreshold",
    threshold: 2,
    treatMissingData: "notBreaching",
    missingDataReason: "no traffic is not an outage; the health check covers a silent API",
  },
  {
    key: "health-ready",
    runbookLine: "health_ready != ready for 3m",
    route: "page",
    statistic: "Minimum",
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    comparison: "LessThanThreshold",
    threshold: 1,
    treatMissingData: "breaching",
    missingDataReason: "a health check that stops reporting is itself the failure",
  },
  {
    key: "db-connectivity-failures",
    runbookLine: "db_connectivity_failures > 3 in 5m",
    route: "page",
    statistic: "Sum",
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: "GreaterThanThreshold",
    threshold: 3,
    treatMissingData: "notBreaching",
    missingDataReason: "the metric is only emitted when a connection fails",
  },
  {
    key: "webhook-invalid-signature-spike",
    runbookLine: "webhook_invalid_signature_rate spike",
    route: "ticket",
    statistic: "Sum",
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: "GreaterThanUpperThreshold",
    threshold: 2,
    treatMissingData: "notBreaching",
    missingDataReason: "the metric is only emitted when a signature fails to verify",
  },
  {
    key: "worker-job-failures",
    runbookLine: "worker job failures for 2 consecutive runs",
    route: "page",
    // Each worker_run line carries the job's consecutiveFailures (0 after a success), so the streak
    // is counted by the worker, not by the alarm's window: two failed runs in a row page whether
    // the job runs every minute or once a week. Between runs there is no data and the alarm keeps
    // its state (ignore) until the next run reports.
    statistic: "Maximum",
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: 2,
    treatMissingData: "ignore",
    missingDataReason: "runs come at the job's own schedule: between runs the alarm keeps its state until the next run reports its streak",
  },
  {
    key: "worker-lag",
    runbookLine: "workerLagMs > 15m",
    route: "page",
    statistic: "Maximum",
    periodSeconds: 60,
    // Two one-minute periods: one late batch of log events must not page, two silent minutes do.
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    comparison: "GreaterThanThreshold",
    threshold: 15 * 60 * 1000,
    treatMissingData: "breaching",
    missingDataReason: "the worker logs workerLagMs every minute; a worker that stops reporting its lag is the worker that stopped",
  },
] as const satisfies readonly RunbookAlarm[];

export type RunbookAlarmKey = (typeof RUNBOOK_ALARMS)[number]["key"];

/**
 * "webhook_invalid_signature_rate spike": a burst at or above this many invalid signatures in one
 * period tickets even when the anomaly band has learned a quiet baseline.
 */
export const WEBHOOK_INVALID_SIGNATURE_FLOOR = 20;

/** Incident step 4, "connection pool saturation": page at this share of max_connections. */
export const DB_CONNECTION_SATURATION_PERCENT = 80;

/**
 * Incident step 4, "Verify database status": page when FreeStorageSpace falls below this share of
 * the stack's initial allocation (`database.allocatedStorageGb`), as an absolute number of bytes.
 * Storage autoscaling grows the volume when free space drops to 10% of the current allocation,
 * which is never less than 10% of the initial one, so free space only falls below this floor when
 * autoscaling cannot act: `maxAllocatedStorageGb` reached, its six-hour cooldown, or growth faster
 * than it scales. A ratio of the current allocation cannot be alarmed on (RDS publishes no
 * allocated-storage metric), and a ratio of the configured size misreads a volume that has grown.
 */
const DB_FREE_STORAGE_FLOOR_PERCENT = 10;

/** "Shared cache: Redis": ticket when a node's memory use passes this share (noeviction then refuses writes). */
export const CACHE_MEMORY_PRESSURE_PERCENT = 80;

/**
 * Incident step 1, "Confirm `/health/live` and `/health/ready`": the probes, the load balancer's
 * health check and the smoke checks all use these paths.
 */
export const HEALTH_PATHS = { live: "/health/live", ready: "/health/ready" } as const;

/** "Worker: dedicated `npm run worker` process": the worker container's command. */
export const WORKER_COMMAND = ["npm", "run", "worker"] as const;

/** `/health/ready` answers 200 with a JSON body containing exactly this once the API is ready. */
export const HEALTH_READY_MATCH = '"status":"ready"';

/** Where the supporting alarms come from: the incident steps and the topology they check. */
const INCIDENT_STEP_DATABASE = "Verify database status and connection pool saturation";
const TOPOLOGY_CACHE = "Shared cache: Redis (webhook replay protection + distributed rate limiting)";

/**
 * Alarms beyond the six that the incident steps check: database connection saturation and free
 * storage (page), Redis memory pressure and evictions (ticket). Thresholds in percent, except
 * evictions (a count).
 */
export const SUPPORTING_ALARMS = [
  {
    key: "db-connection-saturation",
    runbookLine: INCIDENT_STEP_DATABASE,
    route: "page",
    statistic: "Maximum",
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 5,
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: DB_CONNECTION_SATURATION_PERCENT,
    treatMissingData: "notBreaching",
    missingDataReason: "RDS reports every minute while it runs; a silent instance pages through health_ready and db_connectivity_failures",
  },
  {
    key: "db-low-free-storage",
    runbookLine: INCIDENT_STEP_DATABASE,
    route: "page",
    // An absolute floor, in bytes: DB_FREE_STORAGE_FLOOR_PERCENT of the initial allocation.
    statistic: "Minimum",
    periodSeconds: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    comparison: "LessThanThreshold",
    threshold: DB_FREE_STORAGE_FLOOR_PERCENT,
    treatMissingData: "notBreaching",
    missingDataReason: "RDS reports every minute while it runs; a silent instance pages through health_ready and db_connectivity_failures",
  },
  {
    key: "cache-memory-pressure",
    runbookLine: TOPOLOGY_CACHE,
    route: "ticket",
    statistic: "Maximum",
    periodSeconds: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    comparison: "GreaterThanThreshold",
    threshold: CACHE_MEMORY_PRESSURE_PERCENT,
    treatMissingData: "notBreaching",
    missingDataReason: "ElastiCache reports while a node runs; an unreachable cache fails /health/ready",
  },
  {
    key: "cache-evictions",
    runbookLine: TOPOLOGY_CACHE,
    route: "ticket",
    statistic: "Sum",
    periodSeconds: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparison: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
    missingDataReason: "no datapoint means no node reported evictions",
  },
] as const satisfies readonly RunbookAlarm[];

export type SupportingAlarmKey = (typeof SUPPORTING_ALARMS)[number]["key"];
