import type { PolicyResource } from "@pulumi/policy";
import { CompositeAlarm } from "@pulumi/aws/cloudwatch/compositeAlarm";
import { MetricAlarm } from "@pulumi/aws/cloudwatch/metricAlarm";
import { Topic } from "@pulumi/aws/sns/topic";
import { RUNBOOK_ALARMS, type AlarmRoute, type RunbookAlarm } from "../../../lib/runbook";
import type { RunbookStackPolicy } from "../../../lib/policy";

/** A topic's route from its name (`runbook-<stack>-page`, `runbook-<stack>-ticket`, `...-page-us-east-1`). */
function topicRoute(topic: PolicyResource): AlarmRoute | undefined {
  const name = typeof topic.props.name === "string" ? topic.props.name : topic.name;
  return /(^|-)(page|ticket)(-|$)/.exec(name)?.[2] as AlarmRoute | undefined;
}

/** The alarm's threshold matches the row: a static threshold, or the anomaly band's width. */
function matchesThreshold(alarm: PolicyResource, row: RunbookAlarm): boolean {
  if (alarm.props.comparisonOperator !== row.comparison) return false;
  if (alarm.props.evaluationPeriods !== row.evaluationPeriods || alarm.props.datapointsToAlarm !== row.datapointsToAlarm) return false;
  if (row.comparison === "GreaterThanUpperThreshold") {
    const queries = Array.isArray(alarm.props.metricQueries) ? (alarm.props.metricQueries as { id?: string; expression?: string }[]) : [];
    const band = queries.find((q) => q.id === alarm.props.thresholdMetricId);
    return new RegExp(`^ANOMALY_DETECTION_BAND\\(\\w+, ?${row.threshold}\\)$`).test(band?.expression ?? "");
  }
  return alarm.props.threshold === row.threshold;
}

/** The topics an alarm notifies, by the engine's property dependencies or by ARN. */
function notifiedTopics(alarm: PolicyResource, topics: readonly PolicyResource[]): PolicyResource[] {
  const urns = new Set((alarm.propertyDependencies?.alarmActions ?? []).map((d) => d.urn));
  const arns = Array.isArray(alarm.props.alarmActions) ? (alarm.props.alarmActions as unknown[]) : [];
  return topics.filter((t) => urns.has(t.urn) || (typeof t.props.arn === "string" && arns.includes(t.props.arn)));
}

function describeRow(row: RunbookAlarm): string {
  const threshold = row.comparison === "GreaterThanUpperThreshold" ? `an anomaly band of ${row.threshold} standard deviations` : String(row.threshold);
  return `${row.comparison} ${threshold} in ${row.datapointsToAlarm} of ${row.evaluationPeriods} periods`;
}

/**
 * `aws-cloudwatch-runbook-alarms`: each of the six runbook alarms exists (its description quotes the
 * runbook line), with the runbook's exact threshold and window, and notifies the topic of its route
 * (page or ticket) and no other. Severity critical. Protects "Alerts and on-call thresholds".
 */
export const awsCloudwatchRunbookAlarms: RunbookStackPolicy = {
  name: "aws-cloudwatch-runbook-alarms",
  description: "Each runbook alarm exists with its exact threshold and notifies the topic of its route.",
  severity: "critical",
  runbookLine: "Alerts and on-call thresholds",
  remediationSteps: "Build the alarms from runbook.ts RUNBOOK_ALARMS (components/alarms) and quote each runbook line in the alarm description.",
  validateStack: (args, reportViolation) => {
    const alarms = args.resources.filter((r) => r.isType(MetricAlarm) || r.isType(CompositeAlarm));
    const topics = args.resources.filter((r) => r.isType(Topic));
    for (const row of RUNBOOK_ALARMS) {
      const quoting = alarms.filter((a) => typeof a.props.alarmDescription === "string" && a.props.alarmDescription.includes(`"${row.runbookLine}"`));
      if (quoting.length === 0) {
        reportViolation(`"${row.runbookLine}": no alarm quotes this runbook line in its description.`);
        continue;
      }
      if (!quoting.some((a) => a.isType(MetricAlarm) && matchesThreshold(a, row))) {
        reportViolation(`"${row.runbookLine}": no alarm compares ${describeRow(row)}.`, quoting[0]?.urn);
      }
      const notifying = quoting.filter((a) => Array.isArray(a.props.alarmActions) && a.props.alarmActions.length > 0);
      if (notifying.length === 0) {
        reportViolation(`"${row.runbookLine}": no alarm quoting it has alarmActions; nobody would be told.`, quoting[0]?.urn);
        continue;
      }
      for (const alarm of notifying) {
        const actions = (alarm.props.alarmActions as unknown[]).length;
        const routed = notifiedTopics(alarm, topics);
        const wrong = routed.filter((t) => topicRoute(t) !== row.route);
        if (routed.length < actions || wrong.length > 0) {
          const got = routed.map((t) => `${t.name} (${topicRoute(t) ?? "no route"})`).join(", ") || "no topic of this stack";
          reportViolation(`"${row.runbookLine}": ${alarm.name} notifies ${got}; the runbook routes it to the ${row.route} topic only.`, alarm.urn);
        }
      }
    }
  },
};
