import * as pulumi from "@pulumi/pulumi";
import type * as cloudwatch from "@pulumi/aws/cloudwatch";
import type * as inputs from "@pulumi/aws/types/input";
import { HEALTH_PATHS, HEALTH_READY_MATCH } from "../../runbook";
import type { StackIdentity } from "../naming";
import type { AlarmQuery, MetricRef } from "./definitions";
import type { LogSource } from "./logContract";

/** The Alarms component's args, their validation, and the pure helpers that shape its children. */

export interface AlarmsArgs {
  /** Stack the alarms belong to; part of every physical name and of the metric namespace. */
  stack: StackIdentity;
  /** The stack's AWS region (aws:region); the health alarm and its topic go to us-east-1 besides. */
  region: string;
  /** Email addresses subscribed to the page topic (each must confirm the subscription, once per topic). */
  pageEmails: string[];
  /**
   * On-call HTTPS endpoint (e.g. a PagerDuty CloudWatch integration URL) subscribed to the page
   * topics. Secret: the URL carries the integration key.
   */
  pageHttpsEndpoint?: pulumi.Input<string>;
  /** Email addresses subscribed to the ticket topic. */
  ticketEmails: string[];
  /** Retention of the API and worker log groups, one of CloudWatch Logs' periods. */
  logRetentionDays: number;
  /** Public host name of the API (the ingress host) that Route 53 checks over HTTPS. @example "api.example.com" */
  apiHost: pulumi.Input<string>;
  /** Readiness path. @default HEALTH_PATHS.ready ("/health/ready") */
  readyPath?: string;
  /** Text the ready body contains (Route 53 searches its first 5,120 bytes). @default HEALTH_READY_MATCH */
  readyMatch?: string;
  /** RDS instance identifier (DBInstanceIdentifier dimension). */
  dbInstanceIdentifier: pulumi.Input<string>;
  /** PostgreSQL max_connections; saturation is measured against it. */
  maxConnections: pulumi.Input<number>;
  /** Initial allocated storage in GiB; the free-storage floor is a share of it (see DB_FREE_STORAGE_FLOOR_PERCENT). */
  allocatedStorageGb: number;
  /** ElastiCache member cluster ids (`<replication-group-id>-001`, ...), one per node. */
  cacheMemberClusterIds: pulumi.Input<string>[];
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Throws a fixable message when the args would leave a page unheard or a check impossible. */
export function validateAlarmsArgs(args: AlarmsArgs): void {
  if (args.pageEmails.length === 0 && args.pageHttpsEndpoint === undefined) {
    throw new Error("Alarms: no page subscriber; set alarms.pageEmails or the secret pageHttpsEndpoint, or pages reach no one.");
  }
  if (args.ticketEmails.length === 0) throw new Error("Alarms: ticketEmails is empty; high-priority tickets need an address.");
  for (const [setting, list] of [["pageEmails", args.pageEmails], ["ticketEmails", args.ticketEmails]] as const) {
    const bad = list.find((e) => !EMAIL.test(e));
    if (bad) throw new Error(`Alarms: ${setting} contains "${bad}", which is not an email address.`);
    if (new Set(list).size !== list.length) throw new Error(`Alarms: ${setting} lists an address twice; SNS keeps one subscription per address.`);
  }
  if (!AWS_REGION.test(args.region)) throw new Error(`Alarms: region "${args.region}" is not an AWS region such as eu-west-1.`);
  if (!Number.isInteger(args.logRetentionDays) || args.logRetentionDays <= 0) {
    throw new Error(`Alarms: logRetentionDays is ${args.logRetentionDays}; use one of CloudWatch Logs' retention periods (e.g. 30).`);
  }
  if (args.cacheMemberClusterIds.length === 0) throw new Error("Alarms: cacheMemberClusterIds is empty; pass one id per cache node.");
  const readyPath = args.readyPath ?? HEALTH_PATHS.ready;
  if (!readyPath.startsWith("/")) throw new Error(`Alarms: readyPath "${readyPath}" must start with "/".`);
  const readyMatch = args.readyMatch ?? HEALTH_READY_MATCH;
  if (readyMatch.length === 0 || readyMatch.length > 255) throw new Error("Alarms: readyMatch must be 1 to 255 characters (Route 53's search string limit).");
}

/** Log groups the application's lines are shipped to. */
export function logGroupName(stack: StackIdentity, source: LogSource): string {
  return `/${stack.namePrefix}/${stack.name}/${source}`;
}

/**
 * ElastiCache names the members of a replication group (cluster mode disabled) `<id>-001`,
 * `<id>-002`, ...; node metrics carry that CacheClusterId.
 */
export function cacheMemberClusterIds(replicationGroupId: pulumi.Input<string>, nodeCount: number): pulumi.Output<string>[] {
  return Array.from({ length: nodeCount }, (_, i) => pulumi.interpolate`${replicationGroupId}-${String(i + 1).padStart(3, "0")}`);
}

/** Namespace of the log-derived metrics; per stack, so two stacks in one account never mix. */
export function metricNamespace(stack: StackIdentity): string {
  const prefix = stack.namePrefix.charAt(0).toUpperCase() + stack.namePrefix.slice(1);
  return `${prefix}/${stack.name}`;
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

export function toMetricQuery(q: AlarmQuery): inputs.cloudwatch.MetricAlarmMetricQuery {
  return {
    id: q.id,
    returnData: q.returnData,
    ...(q.label === undefined ? {} : { label: q.label }),
    ...(q.expression === undefined ? {} : { expression: q.expression }),
    ...(q.metric === undefined
      ? {}
      : { metric: { namespace: q.metric.namespace, metricName: q.metric.metricName, stat: q.metric.stat, period: q.metric.period, dimensions: q.metric.dimensions ?? {} } }),
  };
}

export function singleMetric(m: MetricRef): Partial<cloudwatch.MetricAlarmArgs> {
  return { namespace: m.namespace, metricName: m.metricName, statistic: m.stat, period: m.period, ...(m.dimensions ? { dimensions: m.dimensions } : {}) };
}
