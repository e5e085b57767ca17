import * as pulumi from "@pulumi/pulumi";
import { IMAGE_BY_DIGEST } from "../config";

/** The stack output through which staging hands its artifact to production. */
export const ARTIFACT_OUTPUT = "imageRef";

export interface ArtifactSource {
  /** The repository every artifact must come from, without tag or digest. */
  repository: string;
  /** An explicit artifact pinned by digest; when set, no stack is referenced. */
  ref?: string;
  /** The stack whose `imageRef` output is promoted (`<org>/<project>/<stack>`). */
  promoteFromStack?: string;
}

/**
 * Returns `ref` when it names one immutable artifact from `repository` (`<repository>@sha256:<64 hex>`);
 * throws a fixable error naming `source` otherwise. A tag can be moved: it is not an artifact.
 */
export function requireDigestPinned(ref: unknown, source: string, repository: string): string {
  if (typeof ref !== "string" || ref === "") {
    throw new Error(`${source} has no artifact; run \`pulumi up\` on that stack first, or set image.ref to <repository>@sha256:<digest>.`);
  }
  if (!IMAGE_BY_DIGEST.test(ref)) {
    throw new Error(`${source} is "${ref}", which is not pinned by digest; promote only <repository>@sha256:<64 hex digits> (a tag can be moved, so it is not the artifact staging tested).`);
  }
  if (!ref.startsWith(`${repository}@`)) {
    throw new Error(`${source} is "${ref}", which is not from image.repository (${repository}); fix image.repository or the artifact.`);
  }
  return ref;
}

/**
 * "Promote same artifact to production": the image this stack runs. An explicit `ref` wins (staging
 * always, production only as a deliberate override); otherwise the exact artifact the
 * `promoteFromStack` stack exports. That value is only known at run time, so it is awaited and
 * checked here: a bad artifact fails the program before any workload is registered with it.
 */
export async function artifactRef(source: ArtifactSource, opts?: pulumi.CustomResourceOptions): Promise<pulumi.Output<string>> {
  if (source.ref) return pulumi.output(requireDigestPinned(source.ref, "image.ref", source.repository));
  if (!source.promoteFromStack) {
    throw new Error("image: set image.ref (<repository>@sha256:<digest>) or image.promoteFromStack (the stack to promote from).");
  }
  const from = source.promoteFromStack;
  const stack = new pulumi.StackReference(from, { name: from }, opts);
  const details = await stack.getOutputDetails(ARTIFACT_OUTPUT);
  const ref = requireDigestPinned(details.value ?? details.secretValue, `the ${ARTIFACT_OUTPUT} output of stack ${from}`, source.repository);
  return details.secretValue === undefined ? pulumi.output(ref) : pulumi.secret(ref);
}
