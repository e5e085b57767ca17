import { validateResourceOfType } from "@pulumi/policy";
import { Distribution } from "@pulumi/aws/cloudfront/distribution";
import type { RunbookResourcePolicy } from "../../../lib/policy";

const HTTPS_POLICIES = ["redirect-to-https", "https-only"];

/**
 * `aws-cloudfront-distribution-https-only`: every cache behavior serves viewers over HTTPS only.
 * Severity high. Protects "Frontend: static hosting (Netlify/Vercel/CDN)".
 */
export const awsCloudfrontDistributionHttpsOnly: RunbookResourcePolicy = {
  name: "aws-cloudfront-distribution-https-only",
  description: "Every CloudFront cache behavior uses viewerProtocolPolicy redirect-to-https or https-only.",
  severity: "high",
  runbookLine: "Deployment topology: Frontend: static hosting (Netlify/Vercel/CDN)",
  remediationSteps: 'Set viewerProtocolPolicy: "redirect-to-https" on the default and every ordered cache behavior.',
  validateResource: validateResourceOfType(Distribution, (distribution, _args, reportViolation) => {
    const behaviors = [
      { where: "defaultCacheBehavior", policy: distribution.defaultCacheBehavior?.viewerProtocolPolicy },
      ...(distribution.orderedCacheBehaviors ?? []).map((b) => ({ where: `orderedCacheBehaviors[${b.pathPattern}]`, policy: b.viewerProtocolPolicy })),
    ];
    for (const behavior of behaviors) {
      if (!HTTPS_POLICIES.includes(behavior.policy ?? "")) {
        reportViolation(`${behavior.where} viewerProtocolPolicy is ${behavior.policy ?? "not set"}; use redirect-to-https or https-only.`);
      }
    }
  }),
};
