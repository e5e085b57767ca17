import { Delivery } from "./delivery";
import { parseConfig, PROJECT } from "../config";
import { POLICY_PACK_NAME } from "../policies/all";
import { ENVIRONMENTS, RESTORE_DRILL_CRON } from "../runbook";
import { listStacks, projectSettings } from "../stackFiles";

/**
 * The delivery program (`pulumi -C delivery up`): Pulumi advises configuring a stack's Deployments
 * from a separate program, so a deployment never rewrites its own settings mid-run. It reads the
 * platform's stack files (the same validation as the program) and needs no config of its own.
 */

/** A platform stack's validated settings, read from its stack file. */
function platformSettings(stack: string): ReturnType<typeof parseConfig> {
  return parseConfig(stack, projectSettings(stack));
}

export = async () => {
  // Every stack file of the project (Pulumi.<stack>.yaml beside Pulumi.yaml), whatever its name, in
  // promotion order: staging-environment stacks before production ones.
  const settings = listStacks()
    .map(platformSettings)
    .sort((a, b) => ENVIRONMENTS.indexOf(a.environment) - ENVIRONMENTS.indexOf(b.environment) || a.stack.localeCompare(b.stack));
  const organizations = [...new Set(settings.map((s) => s.organization))];
  const repositories = [...new Set(settings.map((s) => s.repository.fullName))];
  if (organizations.length !== 1 || repositories.length !== 1) {
    throw new Error(`the stacks disagree on organization (${organizations.join(", ")}) or repository.fullName (${repositories.join(", ")}); one delivery program serves one organization and repository.`);
  }
  const delivery = new Delivery("delivery", {
    organization: organizations[0] as string,
    project: PROJECT,
    repository: repositories[0] as string,
    restoreDrillCron: RESTORE_DRILL_CRON,
    policyPack: { name: POLICY_PACK_NAME },
    stacks: settings.map((s) => ({ stack: s.stack, environment: s.environment, ...s.delivery })),
  });
  return { deployedStacks: delivery.deployedStacks, policyGroupName: delivery.policyGroupName };
};
