import { describe, expect, it } from "vitest";
import { awsCloudfrontDistributionOriginAccessControl as policy } from "../../../../../policies/aws/cloudfront/distribution/originAccessControl";
import { fixture, named, run, violation } from "../../../fixture";

const withOrigin = (origin: Record<string, unknown>) => {
  const plan = fixture();
  named(plan, "frontend-cdn").inputs.origins = [origin];
  return plan;
};

describe("aws-cloudfront-distribution-origin-access-control", () => {
  it("passes the happy path", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags an S3 origin without OAC", async () => {
    expect(await run(policy, withOrigin({ originId: "site", domainName: "b.s3.eu-west-1.amazonaws.com" }))).toEqual([
      violation(policy, "frontend-cdn", "origin site reads S3 without originAccessControlId; the bucket would have to be public."),
    ]);
  });
  it("flags a legacy Origin Access Identity", async () => {
    const oai = "origin-access-identity/cloudfront/E1OAI";
    expect(await run(policy, withOrigin({ originId: "site", domainName: "b.s3.amazonaws.com", s3OriginConfig: { originAccessIdentity: oai } }))).toEqual([
      violation(policy, "frontend-cdn", "origin site uses an Origin Access Identity; use Origin Access Control (originAccessControlId) instead."),
    ]);
  });
  it("leaves non-S3 origins (the API) alone", async () => {
    expect(await run(policy, withOrigin({ originId: "api", domainName: "api.example.com", customOriginConfig: { originProtocolPolicy: "https-only" } }))).toEqual([]);
  });
});
