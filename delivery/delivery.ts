import * as pulumi from "@pulumi/pulumi";
import { DeploymentSchedule } from "@pulumi/pulumiservice/deploymentSchedule";
import { DeploymentSettings } from "@pulumi/pulumiservice/deploymentSettings";
import { DriftSchedule } from "@pulumi/pulumiservice/driftSchedule";
import { PolicyGroup } from "@pulumi/pulumiservice/policyGroup";
import { StackTag } from "@pulumi/pulumiservice/stackTag";
import { ENVIRONMENT_TAG } from "../policies/lib/policy";
import { parseRepository } from "../ops/github/protectionSpec";

/** How Pulumi Deployments runs one stack of the platform. */
export interface DeliveryStack {
  /** Stack name (dev, staging-eu, prod, ...). */
  stack: string;
  /** The environment its stack file declares, set as its `environment` tag (the policy pack reads it to apply production rules). */
  environment: string;
  /** Configure Deployments for this stack at all (settings and schedules). The PolicyGroup covers it either way. */
  enabled: boolean;
  /** Run `pulumi up` on every push to main that touches `paths`. */
  deployOnPush: boolean;
  /** Run `pulumi preview` on pull requests that touch `paths`. */
  previewPullRequests: boolean;
  /**
   * Repository paths whose changes trigger a deployment or preview.
   * @example ["components/**", "Pulumi.staging.yaml"]
   */
  paths: string[];
  /** Five-field UTC cron of drift detection (`pulumi refresh --preview-only`); never remediates. */
  driftCron: string;
  /**
   * A weekly `pulumi update` at `restoreDrillCron`, whose ISO-week window re-runs the restore drill.
   * It deploys whatever main holds, so only a stack that deploys every push anyway may have it: config
   * refuses it in production, where the weekly drill is AWS Backup restore testing.
   * @default false
   */
  weeklyDrillUpdate?: boolean;
  /** IAM role the deployment assumes by OIDC; without it, the deployment has no AWS credentials. */
  awsRoleArn?: string;
}

export interface DeliveryArgs {
  /** Pulumi organization. */
  organization: string;
  /** The platform's project (the program being deployed, not this one). */
  project: string;
  /** Application repository, `owner/repo`. */
  repository: string;
  /** The branch deployments build from. @default "main" */
  branch?: string;
  /** Five-field UTC cron of the weekly `pulumi up` that runs the restore drill where `weeklyDrillUpdate` (runbook.ts RESTORE_DRILL_CRON). */
  restoreDrillCron: string;
  /** The CrossGuard pack the PolicyGroup enforces, as published (`pulumi policy publish policies`). */
  policyPack: { name: string; versionTag?: string };
  stacks: DeliveryStack[];
}

const CRON_5 = /^(\S+ ){4}\S+$/;

/** Throws a fixable message when the args cannot configure Deployments. */
export function validateDeliveryArgs(args: DeliveryArgs): void {
  parseRepository(args.repository);
  if (!CRON_5.test(args.restoreDrillCron)) throw new Error(`Delivery: restoreDrillCron "${args.restoreDrillCron}" is not a five-field cron expression such as "0 4 * * 1".`);
  if (args.stacks.length === 0) throw new Error("Delivery: stacks is empty; list the platform's stacks.");
  for (const s of args.stacks) {
    if (!CRON_5.test(s.driftCron)) throw new Error(`Delivery: ${s.stack}.driftCron "${s.driftCron}" is not a five-field cron expression such as "0 */4 * * *".`);
    if (s.paths.length === 0) throw new Error(`Delivery: ${s.stack}.paths is empty; a push would deploy on any change (list components/**, Pulumi.${s.stack}.yaml, ...).`);
  }
}

/**
 * "Pulumi Deployments on merge" and the weekly drill, configured from outside the stacks it deploys
 * (a stack never configures its own deployments): per stack its `environment` tag, DeploymentSettings
 * (push to main, pull-request previews, path filters, OIDC to AWS), a weekly `pulumi up` that runs
 * the restore drill where the stack opts in (never production: no schedule deploys there), and
 * detect-only drift detection; one PolicyGroup enforcing the CrossGuard pack on every stack.
 */
export class Delivery extends pulumi.ComponentResource {
  /** Stacks whose deployments this configures. */
  public readonly deployedStacks: pulumi.Output<string[]>;
  /** The PolicyGroup's name. */
  public readonly policyGroupName: pulumi.Output<string>;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:delivery:Delivery", name, {}, opts);
    validateDeliveryArgs(args);
    const { organization, project } = args;
    const branch = args.branch ?? "main";
    const deployed: string[] = [];

    for (const s of args.stacks) {
      const target = { organization, project, stack: s.stack };
      new StackTag(`${name}-${s.stack}-environment`, { ...target, name: ENVIRONMENT_TAG, value: s.environment }, { parent: this });
      if (!s.enabled) continue;
      deployed.push(s.stack);
      const settings = new DeploymentSettings(
        `${name}-${s.stack}-settings`,
        {
          ...target,
          vcs: {
            provider: "github",
            repository: args.repository,
            deployCommits: s.deployOnPush,
            previewPullRequests: s.previewPullRequests,
            pullRequestTemplate: false,
            paths: s.paths,
          },
          sourceContext: { git: { branch: `refs/heads/${branch}` } },
          operationContext: {
            options: { skipIntermediateDeployments: true },
            ...(s.awsRoleArn ? { oidc: { aws: { roleARN: s.awsRoleArn, sessionName: `pulumi-deployments-${s.stack}` } } } : {}),
          },
        },
        { parent: this },
      );
      if (s.weeklyDrillUpdate ?? false) {
        // "Weekly restore test": a full `pulumi up`; the drill resource's ISO-week window replaces it once a week.
        new DeploymentSchedule(`${name}-${s.stack}-restore-drill`, { ...target, pulumiOperation: "update", scheduleCron: args.restoreDrillCron }, { parent: this, dependsOn: [settings] });
      }
      new DriftSchedule(`${name}-${s.stack}-drift`, { ...target, scheduleCron: s.driftCron, autoRemediate: false }, { parent: this, dependsOn: [settings] });
    }

    const group = new PolicyGroup(
      `${name}-policies`,
      {
        name: `${project}-runbook`,
        organizationName: organization,
        entityType: "stacks",
        mode: "preventative",
        stacks: args.stacks.map((s) => ({ name: s.stack, routingProject: project })),
        policyPacks: [{ name: args.policyPack.name, ...(args.policyPack.versionTag ? { versionTag: args.policyPack.versionTag } : {}) }],
      },
      { parent: this },
    );

    this.deployedStacks = pulumi.output(deployed);
    this.policyGroupName = group.name;
    this.registerOutputs({ deployedStacks: this.deployedStacks, policyGroupName: this.policyGroupName });
  }
}
