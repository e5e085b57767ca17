import { validateResourceOfType } from "@pulumi/policy";
import { BranchProtection } from "@pulumi/github/branchProtection";
import { PROTECTED_BRANCH } from "../../lib/runbook";
import { configOf, isProductionStack, PRODUCTION_ENVIRONMENTS_SCHEMA, type RunbookResourcePolicy, type RunbookStackPolicy } from "../../lib/policy";

const RUNBOOK_LINE = "Branch Protection Setup: 2. Configure protections for `main`";

const presentSchema = { properties: { productionEnvironments: PRODUCTION_ENVIRONMENTS_SCHEMA } };

/**
 * `github-branch-protection-main-present`: the stack that manages the repository (production)
 * protects main. Staging does not manage it: two stacks would fight over one branch rule. Severity
 * high. Protects "Configure protections for `main`".
 */
export const githubBranchProtectionMainPresent: RunbookStackPolicy = {
  name: "github-branch-protection-main-present",
  description: `The production stack declares a GitHub BranchProtection for ${PROTECTED_BRANCH}.`,
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  configSchema: presentSchema,
  remediationSteps: "Set repository.manageBranchProtection: true in Pulumi.production.yaml (the Repository component).",
  validateStack: (args, reportViolation) => {
    const { productionEnvironments } = configOf<{ productionEnvironments: string[] }>(presentSchema, args.getConfig());
    if (!isProductionStack(args.stackTags, productionEnvironments)) {
      args.notApplicable("only the production stack manages the repository's branch protection");
    }
    const protections = args.resources.filter((r) => r.isType(BranchProtection) && r.props.pattern === PROTECTED_BRANCH);
    if (protections.length === 0) {
      reportViolation(`no GitHub BranchProtection for ${PROTECTED_BRANCH}; merges to ${PROTECTED_BRANCH} would need no review and no passing checks.`);
    }
  },
};

/**
 * `github-branch-protection-reviews-required`: pull requests to main need reviews at all.
 * Severity high. Protects "Configure protections for `main`".
 */
export const githubBranchProtectionReviewsRequired: RunbookResourcePolicy = {
  name: "github-branch-protection-reviews-required",
  description: "Branch protection requires pull request reviews.",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: "Set requiredPullRequestReviews (the Repository component does, from repository.requiredApprovals).",
  validateResource: validateResourceOfType(BranchProtection, (protection, _args, reportViolation) => {
    if ((protection.requiredPullRequestReviews ?? []).length === 0) {
      reportViolation(`${protection.pattern}: requiredPullRequestReviews is not set; pull requests could merge unreviewed.`);
    }
  }),
};

const approvalsSchema = {
  properties: {
    minimumApprovals: { type: "integer" as const, minimum: 1, maximum: 6, default: 1, description: "Fewest approving reviews a pull request needs." },
  },
};

/**
 * `github-branch-protection-approvals`: at least the configured number of approving reviews.
 * Severity high. Protects "Configure protections for `main`".
 */
export const githubBranchProtectionApprovals: RunbookResourcePolicy = {
  name: "github-branch-protection-approvals",
  description: "Branch protection requires at least the minimum number of approving reviews.",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  configSchema: approvalsSchema,
  remediationSteps: "Raise repository.requiredApprovals in the stack file.",
  validateResource: validateResourceOfType(BranchProtection, (protection, args, reportViolation) => {
    const { minimumApprovals } = configOf<{ minimumApprovals: number }>(approvalsSchema, args.getConfig());
    const count = protection.requiredPullRequestReviews?.[0]?.requiredApprovingReviewCount;
    if ((count ?? 0) < minimumApprovals) {
      reportViolation(`${protection.pattern}: requiredApprovingReviewCount is ${count ?? "not set"}; at least ${minimumApprovals} approving review(s) required.`);
    }
  }),
};

/**
 * `github-branch-protection-status-checks`: merges wait for required status checks (CI and the
 * policy preview), on a branch up to date with main. Severity high. Protects "Configure protections
 * for `main`".
 */
export const githubBranchProtectionStatusChecks: RunbookResourcePolicy = {
  name: "github-branch-protection-status-checks",
  description: "Branch protection requires status checks on an up-to-date branch.",
  severity: "high",
  runbookLine: RUNBOOK_LINE,
  remediationSteps: "Set repository.requiredChecks (such as ci and policy-preview).",
  validateResource: validateResourceOfType(BranchProtection, (protection, _args, reportViolation) => {
    const checks = protection.requiredStatusChecks?.[0];
    if (!checks || (checks.contexts ?? []).length === 0) {
      reportViolation(`${protection.pattern}: no required status checks; a red build could merge.`);
    } else if (checks.strict !== true) {
      reportViolation(`${protection.pattern}: required status checks are not strict; checks could have run on a stale branch.`);
    }
  }),
};
