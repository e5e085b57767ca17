/**
 * The protection of `main`, in one place: the repository component (components/repository.ts,
 * @pulumi/github) and the runbook's CLI (`npm run ops:configure-branch-protection`, GitHub REST API)
 * both build their request from `protectionSpec()`, so the two paths cannot drift apart.
 * No Pulumi import: the CLI starts fast.
 */

/** The branch the runbook protects ("Configure protections for `main`"). */
export const PROTECTED_BRANCH = "main";

/** GitHub allows 0-6 required approving reviews; the runbook wants at least one. */
export const MAX_REQUIRED_APPROVALS = 6;

export interface BranchProtectionSpec {
  branch: string;
  /** Approving reviews a pull request needs before it can merge. */
  requiredApprovals: number;
  /** Status checks (job names) that must pass, e.g. `ci` and `policy-preview`. */
  requiredChecks: string[];
  /** Branches must be up to date with `main` before merging, so checks ran on what will land. */
  strictChecks: true;
  /** A new push dismisses earlier approvals. */
  dismissStaleReviews: true;
  /** Changes to files with a CODEOWNERS entry need an owner's review. */
  requireCodeOwnerReviews: true;
  /** The most recent push must be approved by someone other than its author. */
  requireLastPushApproval: true;
  /** Administrators are held to the same rules. */
  enforceAdmins: true;
  requireLinearHistory: true;
  requireConversationResolution: true;
  allowForcePushes: false;
  allowDeletions: false;
}

export interface ProtectionInput {
  requiredApprovals: number;
  requiredChecks: readonly string[];
  /** @default "main" */
  branch?: string;
}

/** Validates the settings and returns the full protection; throws a message naming the setting to fix. */
export function protectionSpec(input: ProtectionInput): BranchProtectionSpec {
  const { requiredApprovals, requiredChecks } = input;
  if (!Number.isInteger(requiredApprovals) || requiredApprovals < 1 || requiredApprovals > MAX_REQUIRED_APPROVALS) {
    throw new Error(`repository.requiredApprovals is ${requiredApprovals}; use a whole number from 1 to ${MAX_REQUIRED_APPROVALS} (GitHub's limit).`);
  }
  const checks = requiredChecks.map((c) => c.trim());
  if (checks.length === 0 || checks.some((c) => c.length === 0)) {
    throw new Error("repository.requiredChecks is empty or has a blank entry; list the required job names, such as ci and policy-preview.");
  }
  return {
    branch: input.branch ?? PROTECTED_BRANCH,
    requiredApprovals,
    requiredChecks: [...new Set(checks)],
    strictChecks: true,
    dismissStaleReviews: true,
    requireCodeOwnerReviews: true,
    requireLastPushApproval: true,
    enforceAdmins: true,
    requireLinearHistory: true,
    requireConversationResolution: true,
    allowForcePushes: false,
    allowDeletions: false,
  };
}

/** `owner/repo` split in two; throws naming GITHUB_REPOSITORY / repository.fullName when malformed. */
export function parseRepository(fullName: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName.trim());
  if (!match) throw new Error(`repository "${fullName}" is not owner/repo (set GITHUB_REPOSITORY or repository.fullName, such as acme/runbook-app).`);
  return { owner: match[1] as string, repo: match[2] as string };
}

/** The body of `PUT /repos/{owner}/{repo}/branches/{branch}/protection` for the spec. */
export function restRequestBody(spec: BranchProtectionSpec) {
  return {
    required_status_checks: { strict: spec.strictChecks, checks: spec.requiredChecks.map((context) => ({ context })) },
    enforce_admins: spec.enforceAdmins,
    required_pull_request_reviews: {
      dismiss_stale_reviews: spec.dismissStaleReviews,
      require_code_owner_reviews: spec.requireCodeOwnerReviews,
      required_approving_review_count: spec.requiredApprovals,
      require_last_push_approval: spec.requireLastPushApproval,
    },
    restrictions: null,
    required_linear_history: spec.requireLinearHistory,
    allow_force_pushes: spec.allowForcePushes,
    allow_deletions: spec.allowDeletions,
    required_conversation_resolution: spec.requireConversationResolution,
  };
}
