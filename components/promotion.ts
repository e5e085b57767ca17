import * as pulumi from "@pulumi/pulumi";
import * as s3 from "@pulumi/aws/s3";
import { getObjectsOutput } from "@pulumi/aws/s3/getObjects";
import { refFromRecordKey, requireDigestPinned, requireVerified, SMOKE_RECORD_PREFIX, VERIFIED_OUTPUT } from "../ops/promotion/artifact";
import { physicalName, type StackIdentity } from "./naming";
import { forceDestroy, stateful } from "./protection";
import { tlsOnlyPolicy } from "./storage";

/**
 * "Promote same artifact to production", as a reviewed change: production runs the artifact its
 * own stack file pins (`image.ref`, written by `npm run promote`), and its preview refuses an
 * artifact that staging has not run and passed its smoke checks with. Staging keeps the smoke
 * workflow's records and exports the artifacts they name; nothing else moves production's image.
 */

export interface ArtifactSource {
  /** The repository every artifact must come from, without tag or digest. */
  repository: string;
  /** The artifact this stack runs, pinned by digest (`<repository>@sha256:<64 hex>`). */
  ref?: string;
  /**
   * The stack (`<org>/<project>/<stack>`) whose `verifiedImageRefs` output must list `ref`: the
   * preview refuses an artifact that stack has not run and passed its smoke checks with.
   */
  verifiedBy?: string;
  /**
   * A deliberate rollback to an artifact the verifying stack no longer lists: skips the check.
   * @default false
   */
  rollback?: boolean;
}

/**
 * The artifact this stack runs: always its own `image.ref`. With `verifiedBy`, the verifying stack's
 * `verifiedImageRefs` output is read (a StackReference) and must list it; that value is only known
 * at run time, so it is awaited and checked here, before any workload is registered.
 */
export async function artifactRef(source: ArtifactSource, opts?: pulumi.CustomResourceOptions): Promise<pulumi.Output<string>> {
  const ref = requireDigestPinned(source.ref, "image.ref", source.repository);
  if (source.verifiedBy && !source.rollback) {
    const from = source.verifiedBy;
    const stack = new pulumi.StackReference(from, { name: from }, opts);
    const details = await stack.getOutputDetails(VERIFIED_OUTPUT);
    requireVerified(ref, details.value ?? details.secretValue, from, false);
  }
  return pulumi.output(ref);
}

export interface PromotionRecordsArgs {
  /** Stack the records belong to; part of the bucket's name. */
  stack: StackIdentity;
  /** The image repository; a record's key carries only the digest. */
  repository: string;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
}

/**
 * The staging smoke workflow's records: a private, TLS-only bucket it writes
 * `smoke/passed/sha256-<hex>.json` to after the checks pass with that artifact, and the list of
 * artifacts those records name (read at each `pulumi up`), which the stack exports as
 * `verifiedImageRefs` for production's preview to check.
 */
export class PromotionRecords extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  /** Artifacts that passed the smoke checks, `<repository>@sha256:<hex>`, sorted. */
  public readonly verifiedImageRefs: pulumi.Output<string[]>;

  constructor(name: string, args: PromotionRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook-platform:delivery:PromotionRecords", name, {}, opts);
    const { stack, tags, repository } = args;
    const bucket = new s3.Bucket(
      `${name}-bucket`,
      { bucketPrefix: `${physicalName(stack, "promotion-records", "s3")}-`, forceDestroy: forceDestroy(stack), tags },
      stateful(stack, "bucket", this),
    );
    const publicAccessBlock = new s3.BucketPublicAccessBlock(
      `${name}-public-access-block`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    new s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    new s3.BucketPolicy(`${name}-tls-only`, { bucket: bucket.id, policy: bucket.arn.apply(tlsOnlyPolicy) }, { parent: this, dependsOn: [publicAccessBlock] });

    const listed = getObjectsOutput({ bucket: bucket.bucket, prefix: SMOKE_RECORD_PREFIX }, { parent: this });
    this.bucketName = bucket.bucket;
    this.verifiedImageRefs = listed.keys.apply((keys) =>
      keys
        .map((key) => refFromRecordKey(key, repository))
        .filter((ref): ref is string => ref !== undefined)
        .sort(),
    );
    this.registerOutputs({ bucketName: this.bucketName, verifiedImageRefs: this.verifiedImageRefs });
  }
}
