import { beforeAll, describe, expect, it } from "vitest";
import {
  DB_CONNECTION_SATURATION_PERCENT,
  HEALTH_READY_MATCH,
  RUNBOOK_ALARMS,
  STACKS,
  SUPPORTING_ALARMS,
  WEBHOOK_INVALID_SIGNATURE_FLOOR,
  type StackName,
} from "../../runbook";
import { LOG_EVENTS, LOG_FIELDS, METRIC_FILTERS, fieldsReadBy } from "../../components/alarms/logContract";
import { cacheMemberClusterIds, validateAlarmsArgs, type AlarmsArgs } from "../../components/alarms";
import { alarmKeyPolicy } from "../../components/alarms/keyPolicy";
import { ofType, one, redactedInputs, runProgram, stackConfig, type ProgramResult, type RecordedResource } from "../support/harness";
import { shippedStack } from "../../components/naming";

const PAGER_URL = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue";
const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC = "aws:sns/topic:Topic";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";

interface Query {
  id: string;
  expression?: string;
  returnData: boolean;
  metric?: { namespace: string; metricName: string; stat: string; period: number; dimensions: Record<string, string> };
}

const results = {} as Record<StackName, ProgramResult>;

beforeAll(async () => {
  results.staging = await runProgram({ stack: "staging" });
  results.production = await runProgram({ stack: "production", secrets: { pageHttpsEndpoint: PAGER_URL } });
});

/** The ARN of the topic `alarms-<role>`, in the region it is placed in (its own `region`, else the stack's). */
function topicArn(result: ProgramResult, role: string): string {
  const topic = one(result, TOPIC, `alarms-${role}`);
  const region = (topic.inputs.region as string | undefined) ?? "eu-west-1";
  return `arn:aws:sns:${region}:123456789012:${topic.inputs.name as string}`;
}

function alarm(result: ProgramResult, key: string): RecordedResource {
  return one(result, METRIC_ALARM, `alarms-${key}`);
}

describe.each(STACKS)("alarms in %s", (stack) => {
  const result = () => results[stack];

  it("creates the six runbook alarms and four supporting ones, each quoting its line", () => {
    expect(RUNBOOK_ALARMS).toHaveLength(6);
    for (const row of [...RUNBOOK_ALARMS, ...SUPPORTING_ALARMS]) {
      const resource =
        row.key === "webhook-invalid-signature-spike"
          ? one(result(), "aws:cloudwatch/compositeAlarm:CompositeAlarm", `alarms-${row.key}`)
          : alarm(result(), row.key);
      expect(resource.inputs.alarmDescription).toContain(`"${row.runbookLine}"`);
      expect(resource.inputs.alarmDescription).toContain(`Missing data: ${row.treatMissingData}`);
      expect(String(resource.inputs.alarmDescription).length).toBeLessThanOrEqual(1024);
    }
    expect(ofType(result(), METRIC_ALARM).filter((a) => a.parentName === "alarms")).toHaveLength(11);
  });

  it("computes the 5xx rate with metric math that reads no traffic as 0 %", () => {
    const queries = alarm(result(), "api-5xx-rate").inputs.metricQueries as Query[];
    expect(queries.map((q) => [q.id, q.metric?.metricName ?? q.expression, q.returnData])).toEqual([
      ["errors", "Http5xx", false],
      ["requests", "HttpRequests", false],
      ["rate", "100 * FILL(errors, 0) / FILL(requests, 1)", true],
    ]);
    expect(queries[0]?.metric?.namespace).toBe(`Runbook/${stack}`);
  });

  it("checks /health/ready through Route 53 and alarms in us-east-1 to a us-east-1 page topic", () => {
    const check = one(result(), "aws:route53/healthCheck:HealthCheck");
    const host = (JSON.parse(stackConfig(stack)["runbook-platform:services"] as string) as { ingress: { host: string } }).ingress.host;
    expect(check.inputs).toMatchObject({
      type: "HTTPS_STR_MATCH",
      fqdn: host,
      port: 443,
      resourcePath: "/health/ready",
      searchString: HEALTH_READY_MATCH,
      requestInterval: 10,
      failureThreshold: 3,
      enableSni: true,
    });
    const health = alarm(result(), "health-ready");
    expect(health.inputs).toMatchObject({ region: "us-east-1", namespace: "AWS/Route53", metricName: "HealthCheckStatus" });
    expect(health.inputs.alarmActions).toEqual([topicArn(result(), "page-us-east-1")]);
    expect(one(result(), TOPIC, "alarms-page-us-east-1").inputs.region).toBe("us-east-1");
    expect(one(result(), "aws:kms/key:Key", "alarms-key-us-east-1").inputs.region).toBe("us-east-1");
  });

  it("sends every other page to the page topic and every ticket to the ticket topic", () => {
    const metricAlarms = ofType(result(), METRIC_ALARM).filter((a) => a.parentName === "alarms");
    // Ten table rows; the webhook row is two member alarms behind one composite.
    expect(metricAlarms).toHaveLength(RUNBOOK_ALARMS.length + SUPPORTING_ALARMS.length + 1);
    for (const a of metricAlarms) {
      if (a.name.startsWith("alarms-webhook-invalid-signature-spike-")) {
        expect(a.inputs.alarmActions).toEqual([]);
        continue;
      }
      const route = (a.inputs.tags as Record<string, string>).route as string;
      const expected = a.name === "alarms-health-ready" ? "page-us-east-1" : route;
      expect(a.inputs.alarmActions, a.name).toEqual([topicArn(result(), expected)]);
      expect(a.inputs.okActions, a.name).toEqual([topicArn(result(), expected)]);
    }
  });

  it("tickets a webhook spike once, from the band OR the static floor", () => {
    const composite = one(result(), "aws:cloudwatch/compositeAlarm:CompositeAlarm");
    expect(composite.inputs.alarmRule).toBe(
      `ALARM("runbook-${stack}-ticket-webhook-invalid-signature-spike-band") OR ALARM("runbook-${stack}-ticket-webhook-invalid-signature-spike-floor")`,
    );
    const band = alarm(result(), "webhook-invalid-signature-spike-band");
    expect(band.inputs.thresholdMetricId).toBe("band");
    expect(band.inputs.threshold).toBeUndefined();
    const floor = alarm(result(), "webhook-invalid-signature-spike-floor");
    expect(floor.inputs).toMatchObject({ comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: WEBHOOK_INVALID_SIGNATURE_FLOOR, statistic: "Sum", period: 300 });
    expect(WEBHOOK_INVALID_SIGNATURE_FLOOR).toBe(20);
  });

  it("measures DB saturation against the stack's max_connections and free storage against an absolute floor", () => {
    const db = JSON.parse(stackConfig(stack)["runbook-platform:database"] as string) as { maxConnections: number; allocatedStorageGb: number };
    const saturation = alarm(result(), "db-connection-saturation").inputs.metricQueries as Query[];
    expect(saturation[1]?.expression).toBe(`100 * connections / ${db.maxConnections}`);
    expect(saturation[0]?.metric).toMatchObject({ namespace: "AWS/RDS", metricName: "DatabaseConnections", dimensions: { DBInstanceIdentifier: one(result(), "aws:rds/instance:Instance").inputs.identifier } });
    expect(DB_CONNECTION_SATURATION_PERCENT).toBe(80);
    // 10 % of the initial allocation in bytes: staging 50 GiB -> 5 GiB, production 200 GiB -> 20 GiB.
    const storage = alarm(result(), "db-low-free-storage").inputs;
    expect(storage).toMatchObject({ namespace: "AWS/RDS", metricName: "FreeStorageSpace", statistic: "Minimum", comparisonOperator: "LessThanThreshold" });
    expect(storage.threshold).toBe({ staging: 5 * 1024 ** 3, production: 20 * 1024 ** 3 }[stack]);
    expect(storage.metricQueries ?? []).toEqual([]);
  });

  it("encrypts both topics and the log groups with a CMK CloudWatch may use", () => {
    const key = one(result(), "aws:kms/key:Key", "alarms-key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    const policy = JSON.parse(key.inputs.policy as string) as { Statement: { Sid: string; Principal: Record<string, string> }[] };
    expect(policy.Statement.map((s) => s.Principal)).toEqual(
      expect.arrayContaining([{ Service: "cloudwatch.amazonaws.com" }, { Service: "sns.amazonaws.com" }, { Service: "logs.eu-west-1.amazonaws.com" }]),
    );
    for (const role of ["page", "ticket", "page-us-east-1"]) {
      expect(one(result(), TOPIC, `alarms-${role}`).inputs.kmsMasterKeyId).not.toMatch(/alias\/aws\/sns/);
    }
    const keyArn = one(result(), TOPIC, "alarms-page").inputs.kmsMasterKeyId;
    expect(keyArn).toMatch(/^arn:aws:kms:/);
    const groups = ofType(result(), "aws:cloudwatch/logGroup:LogGroup").filter((g) => g.parentName === "alarms");
    expect(groups.map((g) => [g.name, g.inputs.kmsKeyId])).toEqual([
      ["alarms-api-logs", keyArn],
      ["alarms-worker-logs", keyArn],
    ]);
  });

  it("creates the API and worker log groups with the stack's retention", () => {
    const retention = { staging: 30, production: 90 }[stack];
    expect(ofType(result(), "aws:cloudwatch/logGroup:LogGroup").filter((g) => g.parentName === "alarms").map((g) => [g.inputs.name, g.inputs.retentionInDays])).toEqual([
      [`/runbook/${stack}/api`, retention],
      [`/runbook/${stack}/worker`, retention],
    ]);
    expect(result().outputs).toMatchObject({ apiLogGroupName: `/runbook/${stack}/api`, workerLogGroupName: `/runbook/${stack}/worker` });
  });

  it("turns the log contract into metric filters on the right log groups", () => {
    const filters = ofType(result(), "aws:cloudwatch/logMetricFilter:LogMetricFilter");
    expect(filters).toHaveLength(METRIC_FILTERS.length);
    for (const spec of METRIC_FILTERS) {
      const filter = one(result(), "aws:cloudwatch/logMetricFilter:LogMetricFilter", `alarms-${spec.key}`);
      expect(filter.inputs.logGroupName).toBe(`/runbook/${stack}/${spec.logGroup}`);
      expect(filter.inputs.pattern).toBe(spec.pattern);
      expect(filter.inputs.metricTransformation).toEqual({
        namespace: `Runbook/${stack}`,
        name: spec.metricName,
        value: spec.value,
        unit: spec.unit,
        ...("defaultValue" in spec ? { defaultValue: spec.defaultValue } : {}),
      });
    }
  });

  it("builds the incident dashboard and the saved query by X-Request-Id", () => {
    const body = JSON.parse(one(result(), "aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody as string) as { widgets: { type: string; properties: { title: string; region?: string; alarms?: string[] } }[] };
    const titles = body.widgets.map((w) => w.properties.title);
    for (const title of ["5xx_rate (%)", "Requests and latency (ms)", "health_ready (Route 53 HealthCheckStatus, 1 = ready)", "db_connectivity_failures (per 5 min)", "webhook_invalid_signature (per 5 min) and expected band", "workerLagMs", "DB connections (% of max_connections)", "Redis memory (%)", "Redis evictions and current connections"]) {
      expect(titles).toContain(title);
    }
    expect(body.widgets.find((w) => w.properties.title.startsWith("health_ready (Route"))?.properties.region).toBe("us-east-1");
    expect(body.widgets[0]?.properties.alarms).toHaveLength(11);
    const query = one(result(), "aws:cloudwatch/queryDefinition:QueryDefinition");
    expect(query.inputs.logGroupNames).toEqual([`/runbook/${stack}/api`, `/runbook/${stack}/worker`]);
    expect(query.inputs.queryString).toContain('| filter requestId = "REPLACE-WITH-X-REQUEST-ID"');
  });

  it("exports the topic ARNs and names every child after its parent", () => {
    expect(result().outputs.pageTopicArn).toBe(topicArn(result(), "page"));
    expect(result().outputs.ticketTopicArn).toBe(topicArn(result(), "ticket"));
    for (const r of result().resources.filter((r) => r.parentName === "alarms")) expect(r.name.startsWith("alarms-")).toBe(true);
  });
});

describe("subscriptions", () => {
  it("subscribes each stack's addresses by email, in both page regions", () => {
    const staging = ofType(results.staging, SUBSCRIPTION).map((s) => [s.name, s.inputs.protocol, s.inputs.endpoint, s.inputs.region ?? "home"]);
    expect(staging).toEqual([
      ["alarms-page-email-oncall-staging-example-com", "email", "oncall-staging@example.com", "home"],
      ["alarms-ticket-email-platform-tickets-example-com", "email", "platform-tickets@example.com", "home"],
      ["alarms-page-us-east-1-email-oncall-staging-example-com", "email", "oncall-staging@example.com", "us-east-1"],
    ]);
  });

  it("subscribes the secret HTTPS endpoint to both page topics, marked secret and never in plain inputs", () => {
    const https = ofType(results.production, SUBSCRIPTION).filter((s) => s.inputs.protocol === "https");
    expect(https.map((s) => [s.name, s.inputs.topic, s.inputs.endpointAutoConfirms])).toEqual([
      ["alarms-page-https", topicArn(results.production, "page"), true],
      ["alarms-page-us-east-1-https", topicArn(results.production, "page-us-east-1"), true],
    ]);
    for (const s of https) {
      expect(s.secretPaths).toEqual(["endpoint"]);
      expect(s.inputs.endpoint).toBe(PAGER_URL);
    }
    const everything = JSON.stringify(results.production.resources.map(redactedInputs));
    expect(everything).not.toContain("0123456789abcdef0123456789abcdef");
    expect(ofType(results.staging, SUBSCRIPTION).some((s) => s.inputs.protocol === "https")).toBe(false);
  });
});

describe("log contract", () => {
  it("documents every field a metric filter reads", () => {
    const documented = new Set<string>(LOG_FIELDS.map((f) => f.name));
    for (const filter of METRIC_FILTERS) for (const field of fieldsReadBy(filter)) expect(documented, `${filter.key} reads ${field}`).toContain(field);
  });

  it("documents every event a metric filter matches, from the process that writes that log group", () => {
    for (const filter of METRIC_FILTERS) {
      const event = /\$\.event = "([a-z_]+)"/.exec(filter.pattern)?.[1];
      expect(LOG_EVENTS.some((e) => e.name === event && e.emittedBy === filter.logGroup), filter.key).toBe(true);
    }
  });
});

describe("validateAlarmsArgs", () => {
  const valid: AlarmsArgs = {
    stack: shippedStack("staging"),
    region: "eu-west-1",
    pageEmails: ["oncall@example.com"],
    ticketEmails: ["tickets@example.com"],
    logRetentionDays: 30,
    apiHost: "api.example.com",
    dbInstanceIdentifier: "db",
    maxConnections: 100,
    allocatedStorageGb: 20,
    cacheMemberClusterIds: ["c-001"],
    tags: {},
  };

  it("accepts valid args, and a page endpoint alone", () => {
    expect(() => validateAlarmsArgs(valid)).not.toThrow();
    expect(() => validateAlarmsArgs({ ...valid, pageEmails: [], pageHttpsEndpoint: PAGER_URL })).not.toThrow();
  });

  it.each([
    [{ pageEmails: [] }, "no page subscriber; set alarms.pageEmails or the secret pageHttpsEndpoint"],
    [{ ticketEmails: [] }, "ticketEmails is empty"],
    [{ pageEmails: ["oncall"] }, 'pageEmails contains "oncall", which is not an email address'],
    [{ ticketEmails: ["a@example.com", "a@example.com"] }, "ticketEmails lists an address twice"],
    [{ region: "Europe" }, 'region "Europe" is not an AWS region'],
    [{ logRetentionDays: 0 }, "logRetentionDays is 0"],
    [{ cacheMemberClusterIds: [] }, "cacheMemberClusterIds is empty"],
    [{ readyPath: "health/ready" }, 'readyPath "health/ready" must start with "/"'],
    [{ readyMatch: "x".repeat(256) }, "readyMatch must be 1 to 255 characters"],
  ] as [Partial<AlarmsArgs>, string][])("rejects %j", (change, message) => {
    expect(() => validateAlarmsArgs({ ...valid, ...change })).toThrow(message);
  });
});

describe("pure helpers", () => {
  it("names cache members as ElastiCache does", async () => {
    const ids = cacheMemberClusterIds("runbook-production-cache", 2);
    const values = await Promise.all(ids.map((id) => new Promise((resolve) => id.apply(resolve))));
    expect(values).toEqual(["runbook-production-cache-001", "runbook-production-cache-002"]);
  });

  it("lets only this account's alarms use the topic key", () => {
    const policy = JSON.parse(alarmKeyPolicy({ accountId: "123456789012", partition: "aws", region: "us-east-1", logs: false })) as { Statement: { Sid: string; Condition?: unknown }[] };
    expect(policy.Statement.map((s) => s.Sid)).toEqual(["AccountAdministersTheKeyThroughIam", "CloudWatchAlarmsPublishToEncryptedTopics", "SnsDeliversFromEncryptedTopics"]);
    expect(policy.Statement[1]?.Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" },
    });
  });
});
