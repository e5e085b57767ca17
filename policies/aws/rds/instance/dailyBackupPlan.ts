import type { PolicyResource } from "@pulumi/policy";
import { Instance } from "@pulumi/aws/rds/instance";
import { Plan } from "@pulumi/aws/backup/plan";
import { Selection } from "@pulumi/aws/backup/selection";
import { pointingAt, type RunbookStackPolicy } from "../../../lib/policy";

/** An AWS Backup schedule that fires every day: `cron(<minute> <hour> * * ? *)`. */
const DAILY_CRON = /^cron\(\d{1,2} \d{1,2} \* \* [?*] \*\)$/;

export function isDailySchedule(schedule: unknown): boolean {
  return typeof schedule === "string" && DAILY_CRON.test(schedule);
}

/** The plans a selection belongs to (its planId input). */
function plansOf(selection: PolicyResource, plans: readonly PolicyResource[]): PolicyResource[] {
  const planUrns = new Set((selection.propertyDependencies?.planId ?? []).map((p) => p.urn));
  return plans.filter((plan) => planUrns.has(plan.urn) || (typeof selection.props.planId === "string" && selection.props.planId === plan.props.id));
}

/**
 * `aws-rds-instance-daily-backup-plan`: every RDS instance is in an AWS Backup selection whose plan
 * has a daily rule. Severity high. Protects "1. Enable automated daily PostgreSQL snapshots".
 */
export const awsRdsInstanceDailyBackupPlan: RunbookStackPolicy = {
  name: "aws-rds-instance-daily-backup-plan",
  description: "Every RDS instance is covered by an AWS Backup plan with a daily rule.",
  severity: "high",
  runbookLine: "Backup and restore drill: 1. Enable automated daily PostgreSQL snapshots",
  remediationSteps: "Add the instance's ARN to an aws.backup.Selection of a plan with a rule scheduled cron(M H * * ? *).",
  validateStack: (args, reportViolation) => {
    const instances = args.resources.filter((r) => r.isType(Instance));
    const selections = args.resources.filter((r) => r.isType(Selection));
    const plans = args.resources.filter((r) => r.isType(Plan));
    for (const instance of instances) {
      const covering = pointingAt(selections, "resources", instance, ["arn"]);
      if (covering.length === 0) {
        reportViolation(`${instance.name}: no AWS Backup selection includes this instance; the runbook wants automated daily snapshots.`, instance.urn);
        continue;
      }
      const coveringPlans = covering.flatMap((s) => plansOf(s, plans));
      const rules = coveringPlans.flatMap((plan) => (Array.isArray(plan.props.rules) ? (plan.props.rules as { schedule?: unknown; enableContinuousBackup?: unknown }[]) : []));
      // A continuous (PITR) rule keeps a restore window, not the daily snapshots the runbook asks for.
      if (!rules.some((rule) => isDailySchedule(rule.schedule) && rule.enableContinuousBackup !== true)) {
        const schedules = rules.map((rule) => String(rule.schedule ?? "none")).join(", ") || "none";
        const names = coveringPlans.map((p) => p.name).join(", ") || "not found in the stack";
        reportViolation(`${instance.name}: the AWS Backup plans that include this instance (${names}) have no daily snapshot rule (schedules: ${schedules}).`, instance.urn);
      }
    }
  },
};
