import { validateResourceOfType } from "@pulumi/policy";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import { configOf, isProductionStack, PRODUCTION_ENVIRONMENTS_SCHEMA, type RunbookResourcePolicy } from "../../../../lib/policy";
import { allContainers } from "./containers";

/** `<repository>@sha256:<64 hex>`: a digest names exactly one artifact; a tag can move. */
const PINNED = /@sha256:[a-f0-9]{64}$/;
const schema = { properties: { productionEnvironments: PRODUCTION_ENVIRONMENTS_SCHEMA } };

/**
 * `kubernetes-apps-v1-deployment-image-digest`: production runs images pinned by digest, so it runs
 * exactly the artifact staging tested. Severity high. Protects "4. Promote same artifact to
 * production".
 */
export const kubernetesDeploymentImageDigest: RunbookResourcePolicy = {
  name: "kubernetes-apps-v1-deployment-image-digest",
  description: "Production Deployment containers use images pinned by digest (@sha256:...).",
  severity: "high",
  runbookLine: "Environment promotion flow: 4. Promote same artifact to production",
  configSchema: schema,
  remediationSteps: "Promote staging's image.ref (repository@sha256:...) instead of a tag.",
  validateResource: validateResourceOfType(Deployment, (deployment, args, reportViolation) => {
    const { productionEnvironments } = configOf<{ productionEnvironments: string[] }>(schema, args.getConfig());
    if (!isProductionStack(args.stackTags, productionEnvironments)) {
      args.notApplicable("images are pinned by digest in production only");
    }
    for (const container of allContainers(deployment)) {
      if (!PINNED.test(container.image ?? "")) {
        reportViolation(`container ${container.name}: image ${container.image ?? "not set"} is not pinned by digest; production runs the exact artifact staging tested.`);
      }
    }
  }),
};
