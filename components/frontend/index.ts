import * as pulumi from "@pulumi/pulumi";
import * as cloudfront from "@pulumi/aws/cloudfront";
import { getCachePolicyOutput } from "@pulumi/aws/cloudfront/getCachePolicy";
import { LogDelivery, LogDeliveryDestination, LogDeliverySource } from "@pulumi/aws/cloudwatch";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import * as s3 from "@pulumi/aws/s3";
import type { StackIdentity } from "../naming";
import { physicalName } from "../naming";
import { assertNoProblems, type SettingProblem } from "../problems";
import { denyInsecureTransport } from "../storage";
import { privateBucket } from "./buckets";
import { ASSETS_CACHE_CODE, SPA_ROUTING_CODE } from "./edgeFunctions";

export { ASSETS_CACHE_CODE, ASSETS_CACHE_CONTROL, SPA_ROUTING_CODE } from "./edgeFunctions";

/** CloudFront is global; its certificates and its log delivery source live in us-east-1. */
const CLOUDFRONT_REGION = "us-east-1";

/** Hashed build output lives under this path: the behavior with the year-long cache. */
const ASSETS_PATH_PATTERN = "/assets/*";
/** index.html names the current hashed assets, so browsers revalidate it on every load. */
export const DOCUMENT_CACHE_CONTROL = "no-cache";
/** Two years, the HSTS preload list's minimum. */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;

const SITE_ORIGIN_ID = "site";


export interface FrontendArgs {
  /** Stack the frontend belongs to; part of every physical name. */
  stack: StackIdentity;
  /**
   * Custom domain served by the distribution; needs `certificateArn`. Unset: the
   * `*.cloudfront.net` domain and CloudFront's default certificate.
   * @example "app.example.com"
   */
  domain?: string;
  /**
   * ACM certificate for `domain`, in us-east-1 (the only region CloudFront reads certificates from):
   * from config, or the one components/dns.ts issues when the stack sets `dns.zone`.
   */
  certificateArn?: pulumi.Input<string>;
  /** Which edge locations serve the site (cost against latency). */
  priceClass: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  /** The Content-Security-Policy header value; must carry a frame-ancestors directive. */
  contentSecurityPolicy: string;
  /** A global (us-east-1) WAFv2 web ACL in front of the distribution. */
  webAclArn?: string;
  /** Days the access logs are kept before S3 expires them. */
  accessLogRetentionDays: number;
  /**
   * Days a replaced object version is kept: the window in which a previous deploy can be restored.
   * @default 30
   */
  noncurrentVersionDays?: number;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

/**
 * The custom-domain rules config.ts and validateFrontendArgs share, for a certificate made outside
 * the program: domain and certificate set together, and the certificate in us-east-1, the only
 * region CloudFront reads certificates from (CloudFront developer guide, "Requirements for using
 * SSL/TLS certificates with CloudFront"). A certificate that is not yet known is not judged.
 */
export function customDomainProblems(s: { domain?: string; certificateArn?: pulumi.Input<string> }): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (Boolean(s.domain) !== Boolean(s.certificateArn)) {
    problems.push({
      key: s.domain ? "certificateArn" : "domain",
      got: undefined,
      expected: `domain and certificateArn set together (a custom domain needs its ${CLOUDFRONT_REGION} certificate)`,
    });
  }
  if (typeof s.certificateArn === "string" && !s.certificateArn.includes(`:${CLOUDFRONT_REGION}:`)) {
    problems.push({ key: "certificateArn", got: s.certificateArn, expected: `a certificate in ${CLOUDFRONT_REGION} (CloudFront only uses certificates from ${CLOUDFRONT_REGION})` });
  }
  return problems;
}

/** Throws a fixable message when the args cannot make a private, HTTPS-only site. */
export function validateFrontendArgs(args: FrontendArgs): void {
  assertNoProblems("Frontend", customDomainProblems(args));
  if (!/(^|;)\s*frame-ancestors\s/.test(args.contentSecurityPolicy)) {
    throw new Error("Frontend: contentSecurityPolicy has no frame-ancestors directive; add one (such as frame-ancestors 'none').");
  }
  if (!Number.isInteger(args.accessLogRetentionDays) || args.accessLogRetentionDays < 1) {
    throw new Error(`Frontend: accessLogRetentionDays is ${args.accessLogRetentionDays}; use a whole number of days, at least 1.`);
  }
}

/**
 * "Frontend: static hosting (CDN)": a private S3 bucket that only this CloudFront distribution can
 * read (Origin Access Control), served over HTTPS with security headers, SPA fallback and access logs.
 */
export class Frontend extends pulumi.ComponentResource {
  /** The distribution's `*.cloudfront.net` domain (the CNAME target of a custom domain). */
  public readonly distributionDomainName: pulumi.Output<string>;
  /** For invalidations after a deploy: `aws cloudfront create-invalidation --distribution-id <id> --paths /index.html`. */
  public readonly distributionId: pulumi.Output<string>;
  public readonly distributionArn: pulumi.Output<string>;
  /** Where the build is uploaded (`aws s3 sync dist/ s3://<bucket>`). */
  public readonly bucketName: pulumi.Output<string>;
  /** Where CloudFront delivers the access logs. */
  public readonly logBucketName: pulumi.Output<string>;
  /** The site's address: the custom domain when configured, else the CloudFront domain. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:frontend:Frontend", name, {}, opts);
    validateFrontendArgs(args);
    const { stack, tags } = args;
    const noncurrentVersionDays = args.noncurrentVersionDays ?? 30;
    const parent = { parent: this };

    const site = privateBucket(`${name}-site`, physicalName(stack, "frontend", "s3"), tags, this, stack);
    new s3.BucketVersioning(`${name}-site-versioning`, { bucket: site.bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
    new s3.BucketLifecycleConfiguration(
      `${name}-site-lifecycle`,
      {
        bucket: site.bucket.id,
        rules: [
          {
            id: "expire-replaced-deploys",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      parent,
    );

    // OAC, not the legacy OAI: SigV4-signed origin requests, and it works with SSE and every region.
    const originAccess = new cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        name: physicalName(stack, "frontend", "cloudfront"),
        description: "CloudFront reads the private frontend bucket",
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      parent,
    );

    const optimized = getCachePolicyOutput({ name: "Managed-CachingOptimized" }, parent);
    const disabled = getCachePolicyOutput({ name: "Managed-CachingDisabled" }, parent);
    const policyId = (policy: pulumi.Output<{ id?: string; name?: string }>) =>
      policy.apply((p) => {
        if (!p.id) throw new Error(`Frontend: the managed CloudFront cache policy ${p.name ?? "(unnamed)"} was not found.`);
        return p.id;
      });

    const headers = (role: string, cacheControl?: string) =>
      new cloudfront.ResponseHeadersPolicy(
        `${name}-${role}-headers`,
        {
          name: physicalName(stack, `frontend-${role}-headers`, "cloudfront"),
          comment: cacheControl === undefined ? `Security headers for ${role}` : `Security headers and Cache-Control for ${role}`,
          securityHeadersConfig: {
            strictTransportSecurity: { accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS, includeSubdomains: true, preload: false, override: true },
            contentTypeOptions: { override: true },
            frameOptions: { frameOption: "DENY", override: true },
            referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
            contentSecurityPolicy: { contentSecurityPolicy: args.contentSecurityPolicy, override: true },
          },
          ...(cacheControl === undefined ? {} : { customHeadersConfig: { items: [{ header: "Cache-Control", value: cacheControl, override: true }] } }),
        },
        parent,
      );
    const documentHeaders = headers("document", DOCUMENT_CACHE_CONTROL);
    // The assets' Cache-Control comes from their viewer-response function, which skips errors.
    const assetHeaders = headers("assets");
    const edgeFunction = (role: string, comment: string, code: string) =>
      new cloudfront.Function(
        `${name}-${role}`,
        { name: physicalName(stack, `frontend-${role}`, "cloudfront"), runtime: "cloudfront-js-2.0", comment, code, publish: true },
        parent,
      );
    const spaRouting = edgeFunction("spa-routing", "Client-side routes (no file extension) get /index.html", SPA_ROUTING_CODE);
    const assetsCache = edgeFunction("assets-cache", "Immutable Cache-Control on assets that exist", ASSETS_CACHE_CODE);

    const behavior = {
      targetOriginId: SITE_ORIGIN_ID,
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD", "OPTIONS"],
      cachedMethods: ["GET", "HEAD"],
      compress: true,
    };
    const distribution = new cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: physicalName(stack, "frontend", "cloudfront"),
        aliases: args.domain ? [args.domain] : [],
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass,
        webAclId: args.webAclArn,
        origins: [{ originId: SITE_ORIGIN_ID, domainName: site.bucket.bucketRegionalDomainName, originAccessControlId: originAccess.id }],
        // index.html and client-side routes: never cached at the edge, so a deploy is live at once.
        defaultCacheBehavior: {
          ...behavior,
          cachePolicyId: policyId(disabled),
          responseHeadersPolicyId: documentHeaders.id,
          functionAssociations: [{ eventType: "viewer-request", functionArn: spaRouting.arn }],
        },
        orderedCacheBehaviors: [
          {
            ...behavior,
            pathPattern: ASSETS_PATH_PATTERN,
            cachePolicyId: policyId(optimized),
            responseHeadersPolicyId: assetHeaders.id,
            functionAssociations: [{ eventType: "viewer-response", functionArn: assetsCache.arn }],
          },
        ],
        restrictions: { geoRestriction: { restrictionType: "none" } },
        // CloudFront pins its default certificate to its own (TLSv1) policy; TLSv1.2_2021 needs our certificate.
        viewerCertificate: args.certificateArn
          ? { acmCertificateArn: args.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
          : { cloudfrontDefaultCertificate: true },
        tags,
      },
      parent,
    );

    new s3.BucketPolicy(
      `${name}-site-policy`,
      {
        bucket: site.bucket.id,
        policy: pulumi.all([site.bucket.arn, distribution.arn]).apply(([bucketArn, distributionArn]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AllowThisDistributionOnly",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:GetObject",
                Resource: `${bucketArn}/*`,
                Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
              },
              // With ListBucket S3 answers a missing key with 404 instead of 403, so a missing file is a 404.
              {
                Sid: "AllowThisDistributionToSeeMissingKeys",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:ListBucket",
                Resource: bucketArn,
                Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
              },
              denyInsecureTransport(bucketArn),
            ],
          }),
        ),
      },
      { parent: this, dependsOn: [site.publicAccessBlock] },
    );

    // Standard logging v2 (CloudWatch vended logs) writes with a bucket policy, so the log bucket
    // keeps ACLs disabled like every other bucket; legacy logging needs ACLs turned back on.
    const logs = privateBucket(`${name}-logs`, physicalName(stack, "frontend-logs", "s3"), tags, this, stack);
    new s3.BucketLifecycleConfiguration(
      `${name}-logs-lifecycle`,
      {
        bucket: logs.bucket.id,
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: {},
            expiration: { days: args.accessLogRetentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      parent,
    );
    const sourceName = physicalName(stack, "frontend-access", "logdelivery");
    const accountId = getCallerIdentityOutput({}, parent).accountId;
    const logPolicy = new s3.BucketPolicy(
      `${name}-logs-policy`,
      {
        bucket: logs.bucket.id,
        policy: pulumi.all([logs.bucket.arn, accountId]).apply(([bucketArn, account]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AllowCloudFrontLogDelivery",
                Effect: "Allow",
                Principal: { Service: "delivery.logs.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${bucketArn}/*`,
                Condition: {
                  StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": account },
                  ArnLike: { "aws:SourceArn": `arn:aws:logs:${CLOUDFRONT_REGION}:${account}:delivery-source:${sourceName}` },
                },
              },
              denyInsecureTransport(bucketArn),
            ],
          }),
        ),
      },
      { parent: this, dependsOn: [logs.publicAccessBlock] },
    );
    const source = new LogDeliverySource(
      `${name}-access-log-source`,
      { region: CLOUDFRONT_REGION, name: sourceName, logType: "ACCESS_LOGS", resourceArn: distribution.arn, tags },
      parent,
    );
    const destination = new LogDeliveryDestination(
      `${name}-access-log-destination`,
      {
        region: CLOUDFRONT_REGION,
        name: physicalName(stack, "frontend-access-s3", "logdelivery"),
        outputFormat: "w3c",
        deliveryDestinationConfiguration: { destinationResourceArn: logs.bucket.arn },
        tags,
      },
      parent,
    );
    new LogDelivery(
      `${name}-access-log-delivery`,
      {
        region: CLOUDFRONT_REGION,
        deliverySourceName: source.name,
        deliveryDestinationArn: destination.arn,
        s3DeliveryConfigurations: [{ suffixPath: "cloudfront/{DistributionId}/{yyyy}/{MM}/{dd}/{HH}", enableHiveCompatiblePath: false }],
        tags,
      },
      { parent: this, dependsOn: [logPolicy] },
    );

    this.distributionDomainName = distribution.domainName;
    this.distributionId = distribution.id;
    this.distributionArn = distribution.arn;
    this.bucketName = site.bucket.bucket;
    this.logBucketName = logs.bucket.bucket;
    this.url = args.domain ? pulumi.output(`https://${args.domain}`) : pulumi.interpolate`https://${distribution.domainName}`;

    this.registerOutputs({
      distributionDomainName: this.distributionDomainName,
      distributionId: this.distributionId,
      distributionArn: this.distributionArn,
      bucketName: this.bucketName,
      logBucketName: this.logBucketName,
      url: this.url,
    });
  }
}
