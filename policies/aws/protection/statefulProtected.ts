import { configOf, isProductionStack, PRODUCTION_ENVIRONMENTS_SCHEMA, type RunbookResourcePolicy } from "../../lib/policy";
import { isStatefulType } from "../../lib/stateful";

const schema = { properties: { productionEnvironments: PRODUCTION_ENVIRONMENTS_SCHEMA } };

/**
 * `aws-stateful-resource-protected`: in production, every resource that holds data (database, cache,
 * bucket, KMS key, backup vault) carries Pulumi's `protect` option, so `pulumi destroy`, a stack
 * deletion or a replacing change stops instead of deleting it. Severity critical. Reads the
 * resource options CrossGuard passes every policy (`args.opts.protect`); no remediation, because a
 * policy cannot set a resource option.
 */
export const awsStatefulResourceProtected: RunbookResourcePolicy = {
  name: "aws-stateful-resource-protected",
  description: "Production databases, caches, buckets, KMS keys and backup vaults are protected from deletion (protect: true).",
  severity: "critical",
  runbookLine: "Backup and restore drill: 1. Enable automated daily PostgreSQL snapshots",
  configSchema: schema,
  remediationSteps:
    "Create the resource with the options of stateful(stack, kind, parent) from components/protection.ts (protect in production); to delete it deliberately, first run `pulumi state unprotect <urn>`.",
  validateResource: (args, reportViolation) => {
    if (!isStatefulType(args.type)) return;
    const { productionEnvironments } = configOf<{ productionEnvironments: string[] }>(schema, args.getConfig());
    if (!isProductionStack(args.stackTags, productionEnvironments)) return;
    if (args.opts.protect !== true) {
      reportViolation(`${args.type} is not protected; in production a resource that holds data must carry protect: true, or one \`pulumi destroy\` deletes it.`);
    }
  },
};
