import { validateResourceOfType } from "@pulumi/policy";
import { Distribution } from "@pulumi/aws/cloudfront/distribution";
import type { RunbookResourcePolicy } from "../../../lib/policy";

/** S3 REST endpoints (`<bucket>.s3.<region>.amazonaws.com`, `<bucket>.s3.amazonaws.com`). */
const S3_ORIGIN = /\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/;

/**
 * `aws-cloudfront-distribution-origin-access-control`: S3 origins are read through Origin Access
 * Control, never a legacy Origin Access Identity, so the bucket stays private. Severity high.
 * Protects "Frontend: static hosting (Netlify/Vercel/CDN)".
 */
export const awsCloudfrontDistributionOriginAccessControl: RunbookResourcePolicy = {
  name: "aws-cloudfront-distribution-origin-access-control",
  description: "CloudFront S3 origins use Origin Access Control (originAccessControlId) and no Origin Access Identity.",
  severity: "high",
  runbookLine: "Deployment topology: Frontend: static hosting (Netlify/Vercel/CDN)",
  remediationSteps: "Create an aws.cloudfront.OriginAccessControl (s3, always, sigv4), set originAccessControlId on the origin, drop s3OriginConfig.originAccessIdentity.",
  validateResource: validateResourceOfType(Distribution, (distribution, _args, reportViolation) => {
    for (const origin of distribution.origins ?? []) {
      const identity = origin.s3OriginConfig?.originAccessIdentity;
      if (typeof identity === "string" && identity.length > 0) {
        reportViolation(`origin ${origin.originId} uses an Origin Access Identity; use Origin Access Control (originAccessControlId) instead.`);
      } else if (S3_ORIGIN.test(origin.domainName ?? "") && !origin.originAccessControlId) {
        reportViolation(`origin ${origin.originId} reads S3 without originAccessControlId; the bucket would have to be public.`);
      }
    }
  }),
};
