import { validateRemediateResourceOfType } from "@pulumi/policy";
import { Instance } from "@pulumi/aws/rds/instance";
import { configOf, isProductionStack, PRODUCTION_ENVIRONMENTS_SCHEMA, type RunbookResourcePolicy } from "../../../lib/policy";

const schema = { properties: { productionEnvironments: PRODUCTION_ENVIRONMENTS_SCHEMA } };

/**
 * `aws-rds-instance-deletion-protection`: the production database cannot be deleted by one command.
 * Severity high. Protects "Promote same artifact to production" (production data outlives any
 * deploy). Remediation turns deletion protection on (an in-place change).
 */
export const awsRdsInstanceDeletionProtection: RunbookResourcePolicy = {
  name: "aws-rds-instance-deletion-protection",
  description: "Production RDS instances have deletion protection on.",
  severity: "high",
  runbookLine: "Environment promotion flow: 4. Promote same artifact to production",
  configSchema: schema,
  remediationSteps: "Set database.deletionProtection: true in Pulumi.production.yaml.",
  ...validateRemediateResourceOfType(Instance, (instance, args, reportViolation) => {
    const { productionEnvironments } = configOf<{ productionEnvironments: string[] }>(schema, args.getConfig());
    if (!isProductionStack(args.stackTags, productionEnvironments)) {
      args.notApplicable("deletion protection is required in production only");
    }
    if (instance.deletionProtection !== true) {
      reportViolation(`deletionProtection is ${instance.deletionProtection ?? "not set"}; production databases must not be deletable by one command.`);
      // Mutating the props (a secrets-preserving proxy in CrossGuard) keeps every secret input secret.
      instance.deletionProtection = true;
      return instance;
    }
    return undefined;
  }),
};
