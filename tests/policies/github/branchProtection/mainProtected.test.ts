import { describe, expect, it } from "vitest";
import {
  githubBranchProtectionApprovals as approvals,
  githubBranchProtectionMainPresent as present,
  githubBranchProtectionReviewsRequired as reviews,
  githubBranchProtectionStatusChecks as checks,
} from "../../../../policies/github/branchProtection/mainProtected";
import { fixture, named, run, violation } from "../../fixture";

const changed = (inputs: Record<string, unknown>) => {
  const plan = fixture();
  Object.assign(named(plan, "repository-main").inputs, inputs);
  return plan;
};

describe("main branch protection", () => {
  it("passes the happy path", async () => {
    for (const policy of [present, reviews, approvals, checks]) expect(await run(policy, fixture())).toEqual([]);
  });
  it("github-branch-protection-main-present: required in production, not applicable in staging", async () => {
    const plan = fixture().filter((r) => r.name !== "repository-main");
    expect(await run(present, plan, "production")).toEqual([
      violation(present, "(stack)", "no GitHub BranchProtection for main; merges to main would need no review and no passing checks."),
    ]);
    expect(await run(present, plan, "staging")).toEqual([]);
    expect(await run(present, changed({ pattern: "release/*" }), "production")).toEqual([
      violation(present, "(stack)", "no GitHub BranchProtection for main; merges to main would need no review and no passing checks."),
    ]);
  });
  it("github-branch-protection-reviews-required flags no review block", async () => {
    expect(await run(reviews, changed({ requiredPullRequestReviews: undefined }))).toEqual([
      violation(reviews, "repository-main", "main: requiredPullRequestReviews is not set; pull requests could merge unreviewed."),
    ]);
  });
  it("github-branch-protection-approvals flags 0 and unset, and takes a minimum from config", async () => {
    expect(await run(approvals, changed({ requiredPullRequestReviews: [{ requiredApprovingReviewCount: 0 }] }))).toEqual([
      violation(approvals, "repository-main", "main: requiredApprovingReviewCount is 0; at least 1 approving review(s) required."),
    ]);
    expect(await run(approvals, changed({ requiredPullRequestReviews: [{ dismissStaleReviews: true }] }))).toEqual([
      violation(approvals, "repository-main", "main: requiredApprovingReviewCount is not set; at least 1 approving review(s) required."),
    ]);
    expect(await run(approvals, fixture(), "production", { [approvals.name]: { minimumApprovals: 3 } })).toEqual([
      violation(approvals, "repository-main", "main: requiredApprovingReviewCount is 2; at least 3 approving review(s) required."),
    ]);
  });
  it("github-branch-protection-status-checks flags no checks and non-strict checks", async () => {
    expect(await run(checks, changed({ requiredStatusChecks: [{ strict: true, contexts: [] }] }))).toEqual([
      violation(checks, "repository-main", "main: no required status checks; a red build could merge."),
    ]);
    expect(await run(checks, changed({ requiredStatusChecks: [{ strict: false, contexts: ["ci"] }] }))).toEqual([
      violation(checks, "repository-main", "main: required status checks are not strict; checks could have run on a stale branch."),
    ]);
  });
});
