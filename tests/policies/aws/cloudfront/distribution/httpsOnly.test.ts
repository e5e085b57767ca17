import { describe, expect, it } from "vitest";
import { awsCloudfrontDistributionHttpsOnly as policy } from "../../../../../policies/aws/cloudfront/distribution/httpsOnly";
import { fixture, named, run, violation } from "../../../fixture";

describe("aws-cloudfront-distribution-https-only", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags allow-all on the default behavior", async () => {
    const plan = fixture();
    named(plan, "frontend-cdn").inputs.defaultCacheBehavior = { targetOriginId: "site", viewerProtocolPolicy: "allow-all" };
    expect(await run(policy, plan)).toEqual([violation(policy, "frontend-cdn", "defaultCacheBehavior viewerProtocolPolicy is allow-all; use redirect-to-https or https-only.")]);
  });
  it("flags an ordered behavior without a policy", async () => {
    const plan = fixture();
    named(plan, "frontend-cdn").inputs.orderedCacheBehaviors = [{ pathPattern: "/assets/*", targetOriginId: "site" }];
    expect(await run(policy, plan)).toEqual([violation(policy, "frontend-cdn", "orderedCacheBehaviors[/assets/*] viewerProtocolPolicy is not set; use redirect-to-https or https-only.")]);
  });
});
