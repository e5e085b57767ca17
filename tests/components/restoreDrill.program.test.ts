import { beforeAll, describe, expect, it } from "vitest";
import { STACKS, type StackName } from "../../runbook";
import { one, ofType, runProgram, type ProgramResult, type RecordedResource } from "../support/harness";

/**
 * The drill's wires in the whole program, for both stacks: the validation function runs with a
 * security group the database's security group admits (its subnets and their routes out are proven
 * in tests/topology), and the
 * restored instances (both drills) get the database's security group, so the function reaches them.
 */

const results: Partial<Record<StackName, ProgramResult>> = {};

beforeAll(async () => {
  for (const stack of STACKS) results[stack] = await runProgram({ stack });
}, 300_000);

const byName = (result: ProgramResult, type: string, name: string): RecordedResource => {
  const found = ofType(result, type).find((r) => r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};

describe.each(STACKS)("the restore drill's wiring (%s)", (stack) => {
  const result = () => results[stack] as ProgramResult;

  it("gives the validation function a security group the database admits", () => {
    const fn = one(result(), "aws:lambda/function:Function").inputs as { vpcConfig: { subnetIds: string[]; securityGroupIds: string[] } };

    const validationSg = byName(result(), "aws:ec2/securityGroup:SecurityGroup", "database-restore-drill-validation-sg");
    expect(one(result(), "aws:lambda/function:Function").propertyDependencies?.vpcConfig).toContain(validationSg.urn);
    const databaseSg = byName(result(), "aws:ec2/securityGroup:SecurityGroup", "network-database");
    const instance = one(result(), "aws:rds/instance:Instance");
    expect(instance.propertyDependencies?.vpcSecurityGroupIds).toContain(databaseSg.urn);
    // The database's group admits the function's group on PostgreSQL's port, by reference.
    expect(databaseSg.propertyDependencies?.ingress).toContain(validationSg.urn);
    const ingress = databaseSg.inputs.ingress as { fromPort: number; securityGroups: string[] }[];
    expect(ingress.find((rule) => rule.securityGroups.includes(fn.vpcConfig.securityGroupIds[0] as string))).toMatchObject({ protocol: "tcp", fromPort: 5432, toPort: 5432 });
  });

  it("restores into the database's security group in both drills, and triggers the function on completed restore tests", () => {
    const databaseSgId = (one(result(), "aws:rds/instance:Instance").inputs.vpcSecurityGroupIds as string[])[0];
    const selection = one(result(), "aws:backup/restoreTestingSelection:RestoreTestingSelection").inputs as { restoreMetadataOverrides: { vpcSecurityGroupIds: string }; protectedResourceType: string };
    expect(selection.protectedResourceType).toBe("RDS");
    expect(JSON.parse(selection.restoreMetadataOverrides.vpcSecurityGroupIds)).toEqual([databaseSgId]);
    const drill = one(result(), "pulumi-nodejs:dynamic/runbook-platform:RestoreDrill").inputs as { backend: { securityGroupIds: string[]; validationFunction: string } };
    expect(drill.backend.securityGroupIds).toEqual([databaseSgId]);
    expect(drill.backend.validationFunction).toBe(`runbook-${stack}-drill-validation`);
    expect(one(result(), "aws:backup/restoreTestingPlan:RestoreTestingPlan").inputs.scheduleExpression).toBe("cron(0 4 ? * MON *)");
    expect(JSON.parse(String(one(result(), "aws:cloudwatch/eventRule:EventRule").inputs.eventPattern))).toMatchObject({ source: ["aws.backup"], "detail-type": ["Restore Job State Change"] });
    expect(result().outputs).toMatchObject({ restoreDrillValidationFunction: `runbook-${stack}-drill-validation`, restoreTestingPlanName: `runbook_${stack}_restore_test` });
  });
});
