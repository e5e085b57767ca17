import * as pulumi from "@pulumi/pulumi";
import { BranchProtection, type BranchProtectionArgs } from "@pulumi/github/branchProtection";
import { Provider } from "@pulumi/github/provider";
import { parseRepository, protectionSpec, type BranchProtectionSpec } from "../ops/github/protectionSpec";

export interface RepositoryArgs {
  /** The application repository, `owner/repo`. */
  fullName: string;
  /** Approving reviews a pull request to main needs (1 to 6). */
  requiredApprovals: number;
  /**
   * Status checks (job names) that must pass before merging.
   * @example ["ci", "policy-preview"]
   */
  requiredChecks: string[];
  /**
   * The protected branch. Changing it replaces the protection rule.
   * @default "main"
   */
  branch?: string;
  /** GitHub token (secret). When unset, the GitHub provider reads the GITHUB_TOKEN environment variable. */
  githubToken?: pulumi.Input<string>;
  /** Reach the underlying BranchProtection's args. */
  transform?: { branchProtection?: (args: BranchProtectionArgs) => BranchProtectionArgs };
}

/** Throws a fixable message when the args cannot protect a branch. */
export function validateRepositoryArgs(args: RepositoryArgs): BranchProtectionSpec {
  parseRepository(args.fullName);
  return protectionSpec({ requiredApprovals: args.requiredApprovals, requiredChecks: args.requiredChecks, branch: args.branch });
}

/** The @pulumi/github args for a protection spec; the CLI sends the same spec over REST. */
export function branchProtectionArgs(repositoryName: string, spec: BranchProtectionSpec): BranchProtectionArgs {
  return {
    repositoryId: repositoryName,
    pattern: spec.branch,
    enforceAdmins: spec.enforceAdmins,
    allowsForcePushes: spec.allowForcePushes,
    allowsDeletions: spec.allowDeletions,
    requiredLinearHistory: spec.requireLinearHistory,
    requireConversationResolution: spec.requireConversationResolution,
    requiredStatusChecks: [{ strict: spec.strictChecks, contexts: spec.requiredChecks }],
    requiredPullRequestReviews: [
      {
        requiredApprovingReviewCount: spec.requiredApprovals,
        dismissStaleReviews: spec.dismissStaleReviews,
        requireCodeOwnerReviews: spec.requireCodeOwnerReviews,
        requireLastPushApproval: spec.requireLastPushApproval,
      },
    ],
  };
}

/**
 * "Branch Protection Setup": protects main of the application repository with required reviews and
 * status checks (CI and the policy preview). Exactly one stack manages it (the one with
 * repository.manageBranchProtection), since every stack would otherwise fight over one branch rule.
 */
export class Repository extends pulumi.ComponentResource {
  /** The protected branch. */
  public readonly protectedBranch: pulumi.Output<string>;
  /** The protection rule's id (GitHub's node id). */
  public readonly branchProtectionId: pulumi.Output<string>;

  constructor(name: string, args: RepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:repository:Repository", name, {}, opts);
    const spec = validateRepositoryArgs(args);
    const { owner, repo } = parseRepository(args.fullName);
    const { transform } = args;

    const provider = new Provider(`${name}-github`, { owner, token: args.githubToken }, { parent: this });
    const protectionArgs = branchProtectionArgs(repo, spec);
    const protection = new BranchProtection(
      `${name}-${spec.branch}`,
      transform?.branchProtection ? transform.branchProtection(protectionArgs) : protectionArgs,
      { parent: this, provider },
    );

    this.protectedBranch = pulumi.output(spec.branch);
    this.branchProtectionId = protection.id;
    this.registerOutputs({ protectedBranch: this.protectedBranch, branchProtectionId: this.branchProtectionId });
  }
}
