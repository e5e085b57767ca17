import { describe, expect, it } from "vitest";
import { awsCloudwatchRunbookAlarms as policy } from "../../../../../policies/aws/cloudwatch/metricAlarm/runbookAlarms";
import { RUNBOOK_ALARMS } from "../../../../../runbook";
import { fixture, named, run, violation } from "../../../fixture";

const [rate, ready] = RUNBOOK_ALARMS;
const webhook = RUNBOOK_ALARMS.find((r) => r.comparison === "GreaterThanUpperThreshold");

describe("aws-cloudwatch-runbook-alarms", () => {
  it("passes the happy path: six alarms, exact thresholds, right topics", async () => {
    expect(await run(policy, fixture())).toEqual([]);
  });
  it("flags a missing alarm by its runbook line", async () => {
    const plan = fixture().filter((r) => r.name !== `alarms-${rate.key}`);
    expect(await run(policy, plan)).toEqual([violation(policy, "(stack)", `"${rate.runbookLine}": no alarm quotes this runbook line in its description.`)]);
  });
  it("flags a threshold off by one", async () => {
    const plan = fixture();
    named(plan, `alarms-${rate.key}`).inputs.threshold = rate.threshold + 1;
    expect(await run(policy, plan)).toEqual([
      violation(policy, `alarms-${rate.key}`, `"${rate.runbookLine}": no alarm compares ${rate.comparison} ${rate.threshold} in ${rate.datapointsToAlarm} of ${rate.evaluationPeriods} periods.`),
    ]);
  });
  it("flags a shorter evaluation window", async () => {
    const plan = fixture();
    named(plan, `alarms-${ready.key}`).inputs.evaluationPeriods = ready.evaluationPeriods - 1;
    expect(await run(policy, plan)).toEqual([
      violation(policy, `alarms-${ready.key}`, `"${ready.runbookLine}": no alarm compares ${ready.comparison} ${ready.threshold} in ${ready.datapointsToAlarm} of ${ready.evaluationPeriods} periods.`),
    ]);
  });
  it("checks the anomaly band's width for the webhook spike", async () => {
    if (!webhook) throw new Error("the runbook table lost its anomaly-band alarm");
    const plan = fixture();
    const alarm = named(plan, `alarms-${webhook.key}`);
    alarm.inputs.metricQueries = (alarm.inputs.metricQueries as { id: string; expression?: string }[]).map((q) =>
      q.id === "band" ? { ...q, expression: `ANOMALY_DETECTION_BAND(m, ${webhook.threshold + 1})` } : q,
    );
    expect(await run(policy, plan)).toEqual([
      violation(
        policy,
        `alarms-${webhook.key}`,
        `"${webhook.runbookLine}": no alarm compares ${webhook.comparison} an anomaly band of ${webhook.threshold} standard deviations in ${webhook.datapointsToAlarm} of ${webhook.evaluationPeriods} periods.`,
      ),
    ]);
  });
  it("flags an alarm that notifies nobody", async () => {
    const plan = fixture();
    named(plan, `alarms-${rate.key}`).inputs.alarmActions = [];
    expect(await run(policy, plan)).toEqual([violation(policy, `alarms-${rate.key}`, `"${rate.runbookLine}": no alarm quoting it has alarmActions; nobody would be told.`)]);
  });
  it("flags a page alarm routed to the ticket topic", async () => {
    const plan = fixture();
    const alarm = named(plan, `alarms-${rate.key}`);
    alarm.inputs.alarmActions = ["arn:aws:sns:eu-west-1:123456789012:runbook-production-ticket"];
    alarm.propertyDependencies = { alarmActions: [named(plan, "alarms-ticket").urn] };
    expect(await run(policy, plan)).toEqual([
      violation(policy, `alarms-${rate.key}`, `"${rate.runbookLine}": alarms-${rate.key} notifies alarms-ticket (ticket); the runbook routes it to the page topic only.`),
    ]);
  });
  it("flags an action that is not a topic of the stack", async () => {
    const plan = fixture();
    const alarm = named(plan, `alarms-${rate.key}`);
    alarm.inputs.alarmActions = ["arn:aws:sns:eu-west-1:999999999999:elsewhere"];
    alarm.propertyDependencies = {};
    expect(await run(policy, plan)).toEqual([
      violation(policy, `alarms-${rate.key}`, `"${rate.runbookLine}": alarms-${rate.key} notifies no topic of this stack; the runbook routes it to the page topic only.`),
    ]);
  });
});
