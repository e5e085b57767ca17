import { describe, expect, it } from "vitest";
import { kubernetesDeploymentLivenessProbe as liveness, kubernetesDeploymentReadinessProbe as readiness } from "../../../../../../policies/kubernetes/apps/v1/deployment/probes";
import { HEALTH_PATHS } from "../../../../../../runbook";
import { fixture, named, run, violation } from "../../../../fixture";

type Container = Record<string, unknown>;
const withContainer = (change: (c: Container) => void) => {
  const plan = fixture();
  const spec = named(plan, "services-api").inputs.spec as { template: { spec: { containers: Container[] } } };
  change(spec.template.spec.containers[0] as Container);
  return plan;
};

describe("Deployment probes", () => {
  it("pass the happy path", async () => {
    expect(await run(readiness, fixture())).toEqual([]);
    expect(await run(liveness, fixture())).toEqual([]);
  });
  it("kubernetes-apps-v1-deployment-readiness-probe flags a missing or wrong path", async () => {
    expect(await run(readiness, withContainer((c) => delete c.readinessProbe))).toEqual([
      violation(readiness, "services-api", `container api: readinessProbe httpGet path is not set; expected ${HEALTH_PATHS.ready}.`),
    ]);
    expect(await run(readiness, withContainer((c) => (c.readinessProbe = { httpGet: { path: HEALTH_PATHS.live, port: 3000 } })))).toEqual([
      violation(readiness, "services-api", `container api: readinessProbe httpGet path is ${HEALTH_PATHS.live}; expected ${HEALTH_PATHS.ready}.`),
    ]);
  });
  it("kubernetes-apps-v1-deployment-liveness-probe flags a missing or wrong path", async () => {
    expect(await run(liveness, withContainer((c) => (c.livenessProbe = { tcpSocket: { port: 3000 } })))).toEqual([
      violation(liveness, "services-api", `container api: livenessProbe httpGet path is not set; expected ${HEALTH_PATHS.live}.`),
    ]);
    expect(await run(liveness, withContainer((c) => (c.livenessProbe = { httpGet: { path: HEALTH_PATHS.ready, port: 3000 } })))).toEqual([
      violation(liveness, "services-api", `container api: livenessProbe httpGet path is ${HEALTH_PATHS.ready}; expected ${HEALTH_PATHS.live}.`),
    ]);
  });
});
