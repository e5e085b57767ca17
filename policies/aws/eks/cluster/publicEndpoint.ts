import { validateResourceOfType } from "@pulumi/policy";
import { Cluster } from "@pulumi/aws/eks/cluster";
import { configOf, isProductionStack, PRODUCTION_ENVIRONMENTS_SCHEMA, type RunbookResourcePolicy } from "../../../lib/policy";

const schema = { properties: { productionEnvironments: PRODUCTION_ENVIRONMENTS_SCHEMA } };

/**
 * `aws-eks-cluster-public-endpoint-restricted`: a production cluster's API endpoint is private, or
 * public only to named CIDRs (EKS opens an enabled public endpoint to 0.0.0.0/0 unless
 * publicAccessCidrs says otherwise, and enables it unless told not to). Severity high.
 */
export const awsEksClusterPublicEndpointRestricted: RunbookResourcePolicy = {
  name: "aws-eks-cluster-public-endpoint-restricted",
  description: "Production EKS clusters keep the public API endpoint off, or limited to CIDRs narrower than /0.",
  severity: "high",
  runbookLine: "Incident response quick steps: 2. Check latest deploy and rollback if needed (only the deploy path reaches the cluster)",
  configSchema: schema,
  remediationSteps: "Set cluster.publicAccessCidrs to your VPN's or CI's ranges, or [] for a private endpoint only.",
  validateResource: validateResourceOfType(Cluster, (cluster, args, reportViolation) => {
    const { productionEnvironments } = configOf<{ productionEnvironments: string[] }>(schema, args.getConfig());
    if (!isProductionStack(args.stackTags, productionEnvironments)) {
      args.notApplicable("the public endpoint is restricted in production only");
    }
    const vpc = cluster.vpcConfig;
    if (vpc?.endpointPublicAccess === false) return;
    const cidrs = vpc?.publicAccessCidrs ?? [];
    const open = cidrs.length === 0 ? "0.0.0.0/0 (the default when publicAccessCidrs is unset)" : cidrs.find((cidr) => cidr.endsWith("/0"));
    if (open) reportViolation(`the public API endpoint is open to ${open}; limit vpcConfig.publicAccessCidrs or set endpointPublicAccess: false.`);
  }),
};
