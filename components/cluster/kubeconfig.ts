/**
 * A kubeconfig that authenticates with `aws eks get-token` (the AWS CLI on the deploy runner's
 * PATH, its ambient credentials), so no long-lived token is ever stored in config or state.
 */
export function execKubeconfig(clusterName: string, endpoint: string, certificateAuthority: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": certificateAuthority } }],
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
  });
}

/** `oidc.eks.<region>.amazonaws.com/id/<id>`: the issuer as IAM condition keys and provider ARNs spell it. */
export function issuerHost(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, "");
}
