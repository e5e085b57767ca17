import { Delivery } from "./delivery";
import { parseConfig, PROJECT } from "../config";
import { POLICY_PACK_NAME } from "../policies/all";
import { RESTORE_DRILL_CRON, STACKS, type StackName } from "../runbook";
import { readStackFile } from "../stackFiles";

/**
 * The delivery program (`pulumi -C delivery up`): Pulumi advises configuring a stack's Deployments
 * from a separate program, so a deployment never rewrites its own settings mid-run. It reads the
 * platform's stack files (the same validation as the program) and needs no config of its own.
 */

/** A platform stack's validated settings, read from its stack file. */
function platformSettings(stack: StackName): ReturnType<typeof parseConfig> {
  const prefix = `${PROJECT}:`;
  const raw = Object.fromEntries(
    Object.entries(readStackFile(stack))
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
  return parseConfig(stack, raw);
}

export = async () => {
  const settings = STACKS.map(platformSettings);
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
    stacks: settings.map((s) => ({ stack: s.stack, ...s.delivery })),
  });
  return { deployedStacks: delivery.deployedStacks, policyGroupName: delivery.policyGroupName };
};
