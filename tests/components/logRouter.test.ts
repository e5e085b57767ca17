import { beforeAll, describe, expect, it } from "vitest";
import { fluentBitConfig, logRouterPolicy, validateLogRouterArgs, type LogRouterArgs } from "../../components/logRouter";
import { STACKS, type StackName } from "../../runbook";
import { ofType, one, runProgram, type ProgramResult, type RecordedResource } from "../support/harness";

/**
 * Logs reach every alarm: from the registered resources alone, each log group a metric filter reads
 * has a Fluent Bit route that tails the writing workload's container logs, outputs to exactly that
 * group, and runs under a role allowed to write there and nowhere else.
 */

type Section = { name: string; entries: Map<string, string> };

/** Reads Fluent Bit's classic configuration format back: `[SECTION]` headers and `key value` lines. */
function parseFluentBit(text: string): Section[] {
  const sections: Section[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[([A-Z]+)\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1] as string, entries: new Map() });
      continue;
    }
    const [key, ...value] = line.split(/\s+/);
    const current = sections[sections.length - 1];
    if (!current || key === undefined) throw new Error(`entry outside a section: ${line}`);
    current.entries.set(key.toLowerCase(), value.join(" "));
  }
  return sections;
}

/** Fluent Bit's wildcard match (`*` any run of characters), for tags and tail paths. */
const globMatches = (glob: string, text: string) => new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(text);

const results = {} as Record<StackName, ProgramResult>;
beforeAll(async () => {
  for (const stack of STACKS) results[stack] = await runProgram({ stack });
});

describe.each(STACKS)("the log pipeline of %s", (stack) => {
  const result = () => results[stack];
  const routerConfig = () => {
    const configMap = ofType(result(), "kubernetes:core/v1:ConfigMap").find((c) => c.parentName === "log-router");
    expect(configMap, "the log router's ConfigMap").toBeDefined();
    return parseFluentBit(String((configMap?.inputs.data as Record<string, string>)["fluent-bit.conf"]));
  };

  it("routes every log group an alarm's metric filter reads from the container that writes it", () => {
    const sections = routerConfig();
    const deployments = ofType(result(), "kubernetes:apps/v1:Deployment");
    const groups = [...new Set(ofType(result(), "aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => String(f.inputs.logGroupName)))];
    expect(groups.sort()).toEqual([`/runbook/${stack}/api`, `/runbook/${stack}/worker`]);
    for (const group of groups) {
      const outputs = sections.filter((s) => s.name === "OUTPUT" && s.entries.get("log_group_name") === group);
      expect(outputs, `outputs to ${group}`).toHaveLength(1);
      const output = outputs[0] as Section;
      expect(output.entries.get("name")).toBe("cloudwatch_logs");
      expect(output.entries.get("auto_create_group")).toBe("Off");
      expect(output.entries.get("region")).toBe("eu-west-1");
      const match = output.entries.get("match") as string;
      const inputs = sections.filter((s) => s.name === "INPUT" && globMatches(match, String(s.entries.get("tag")).replace(/\*$/, "var.log.containers.x.log")));
      expect(inputs, `inputs feeding ${group}`).toHaveLength(1);
      const path = String(inputs[0]?.entries.get("path"));
      // The kubernetes filter on the same tag parses the JSON line into top-level fields.
      expect(sections.some((s) => s.name === "FILTER" && s.entries.get("name") === "kubernetes" && s.entries.get("match") === match && s.entries.get("merge_log") === "On")).toBe(true);
      // The workload that writes this group: the container of the same name, in its namespace.
      const source = group.split("/").pop() as string;
      const writer = deployments.find((d) => (d.inputs.metadata as { name: string }).name === source) as RecordedResource;
      const namespace = (writer.inputs.metadata as { namespace: string }).namespace;
      const containers = ((writer.inputs.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers).map((c) => c.name);
      expect(containers).toContain(source);
      expect(globMatches(path, `/var/log/containers/${source}-7d9f8c6b5-x2x9k_${namespace}_${source}-0123456789abcdef.log`), `${path} tails ${namespace}/${source}`).toBe(true);
      for (const other of deployments.filter((d) => d !== writer)) {
        const name = (other.inputs.metadata as { name: string }).name;
        expect(globMatches(path, `/var/log/containers/${name}-7d9f8c6b5-x2x9k_${namespace}_${name}-0123456789abcdef.log`), `${path} must not tail ${name}`).toBe(false);
      }
    }
  });

  it("writes under an IRSA role allowed to put events in those log groups only", () => {
    const account = one(result(), "kubernetes:core/v1:ServiceAccount", "log-router-service-account");
    const roleArn = String((account.inputs.metadata as { annotations: Record<string, string> }).annotations["eks.amazonaws.com/role-arn"]);
    const role = one(result(), "aws:iam/role:Role", "log-router-irsa");
    expect(roleArn.endsWith(`:role/${String(role.inputs.name)}`)).toBe(true);
    const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
    expect(Object.values(trust.Statement[0]?.Condition.StringEquals ?? {})).toContain("system:serviceaccount:log-router:fluent-bit");
    const policy = JSON.parse(String(one(result(), "aws:iam/rolePolicy:RolePolicy", "log-router-irsa-policy").inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]?.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
    const groups = (policy.Statement[0]?.Resource ?? []).map((arn) => arn.replace(/^arn:aws:logs:eu-west-1:123456789012:log-group:/, "").replace(/:\*$/, ""));
    expect([...new Set(groups)].sort()).toEqual([`/runbook/${stack}/api`, `/runbook/${stack}/worker`]);
  });

  it("runs on every node with the kubelet's logs read-only and the configuration it was given", () => {
    const daemonSet = one(result(), "kubernetes:apps/v1:DaemonSet", "log-router-daemonset");
    const pod = (daemonSet.inputs.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      serviceAccountName: string;
      tolerations: unknown[];
      containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; securityContext: Record<string, unknown> }[];
      volumes: { name: string; hostPath?: { path: string }; configMap?: { name: string } }[];
    };
    expect(pod.serviceAccountName).toBe("fluent-bit");
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: "varlog", mountPath: "/var/log", readOnly: true });
    expect(pod.containers[0]?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.volumes.find((v) => v.name === "varlog")?.hostPath?.path).toBe("/var/log");
    expect(pod.volumes.find((v) => v.name === "config")?.configMap?.name).toBe("fluent-bit");
  });
});

describe("validateLogRouterArgs and the pure builders", () => {
  const route = { key: "api", namespace: "runbook", container: "api", logGroupName: "/runbook/staging/api", logGroupArn: "arn:aws:logs:eu-west-1:1:log-group:/runbook/staging/api" };
  const args = { stack: "staging", region: "eu-west-1", routes: [route], tags: {} } as unknown as LogRouterArgs;

  it.each([
    [{ routes: [] }, "routes is empty"],
    [{ routes: [route, route] }, 'route key "api" is used twice'],
    [{ routes: [{ ...route, container: "API" }] }, 'route "api" (container "API") must use lower-case DNS labels'],
  ] as [Partial<LogRouterArgs>, string][])("refuses %j", (change, message) => {
    expect(() => validateLogRouterArgs({ ...args, ...change })).toThrow(message);
  });

  it("lets the router write streams and events, never create or delete a group", () => {
    const policy = JSON.parse(logRouterPolicy(["arn:g"])) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(policy.Statement[0]?.Resource).toEqual(["arn:g", "arn:g:*"]);
    expect(policy.Statement[0]?.Action.some((a) => /CreateLogGroup|Delete|PutRetention/.test(a))).toBe(false);
  });

  it("renders one tail, kubernetes filter and output per route", () => {
    const sections = parseFluentBit(fluentBitConfig("eu-west-1", [{ key: "api", namespace: "runbook", container: "api", logGroupName: "/g" }]));
    expect(sections.map((s) => s.name)).toEqual(["SERVICE", "INPUT", "FILTER", "OUTPUT"]);
  });
});
