import { validateRemediateResourceOfType } from "@pulumi/policy";
import { Instance } from "@pulumi/aws/rds/instance";
import type { RunbookResourcePolicy } from "../../../lib/policy";

/**
 * `aws-rds-instance-not-public`: the database has no public endpoint, stated explicitly. Severity
 * critical. Protects "Database: managed PostgreSQL" reached only by the API and worker.
 * Remediation sets publiclyAccessible to false (an in-place change).
 */
export const awsRdsInstanceNotPublic: RunbookResourcePolicy = {
  name: "aws-rds-instance-not-public",
  description: "RDS instances are not publicly accessible.",
  severity: "critical",
  runbookLine: "Deployment topology: Database: managed PostgreSQL",
  remediationSteps: "Set publiclyAccessible: false; reach the database from the cluster's private subnets.",
  ...validateRemediateResourceOfType(Instance, (instance, _args, reportViolation) => {
    if (instance.publiclyAccessible !== false) {
      reportViolation(`publiclyAccessible is ${instance.publiclyAccessible ?? "not set"}; set it to false so the database has no public endpoint.`);
      // Mutating the props (a secrets-preserving proxy in CrossGuard) keeps every secret input secret.
      instance.publiclyAccessible = false;
      return instance;
    }
    return undefined;
  }),
};
