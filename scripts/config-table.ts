import { z } from "zod";
import { configSchema, PROJECT, SECRET_KEYS } from "../config";
import { STACKS } from "../runbook";
import { readStackFile } from "../tests/support/harness";

/**
 * The README's config reference, generated from the zod schema (what each key accepts) and the
 * stack files (what each stack sets), so the table cannot drift from the code:
 * `npm run config:table` prints it, and tests/readme.test.ts checks the README holds exactly this.
 */

interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
}

function accepts(node: JsonSchema): string {
  if (node.description) return node.description;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(", ");
  if (node.anyOf?.every((n) => n.const !== undefined)) return `one of ${node.anyOf.map((n) => String(n.const)).join(", ")}`;
  if (node.type === "array" && node.items) return `list of: ${accepts(node.items)}`;
  return String(node.type ?? "value");
}

function cell(value: unknown): string {
  if (value === undefined) return "–";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return `\`${text.replace(/\|/g, "\\|")}\``;
}

function lookup(config: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = config[`${PROJECT}:${path[0]}`];
  for (const part of path.slice(1)) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** One row per leaf key: `key | accepts | staging | production`. */
export function configTable(): string {
  const root = z.toJSONSchema(configSchema, { io: "input" }) as JsonSchema;
  const stacks = STACKS.map((stack) => readStackFile(stack));
  const rows: string[] = [
    `| key (\`${PROJECT}:\`) | accepts | ${STACKS.join(" | ")} |`,
    `|---|---|${STACKS.map(() => "---").join("|")}|`,
  ];
  const walk = (node: JsonSchema, path: string[], required: boolean) => {
    if (node.type === "object" && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) walk(child, [...path, key], (node.required ?? []).includes(key));
      return;
    }
    const optional = required ? "" : node.default !== undefined ? ` (default ${JSON.stringify(node.default)})` : " (optional)";
    rows.push(`| \`${path.join(".")}\` | ${accepts(node)}${optional} | ${stacks.map((c) => cell(lookup(c, path))).join(" | ")} |`);
  };
  walk(root, [], true);
  for (const key of SECRET_KEYS) {
    rows.push(`| \`${key}\` | secret: \`pulumi config set --secret ${key} ...\` (optional) | ${STACKS.map(() => "secret").join(" | ")} |`);
  }
  rows.push(`| \`aws:region\` | an AWS region | ${stacks.map((c) => cell(c["aws:region"])).join(" | ")} |`);
  return rows.join("\n");
}

if (require.main === module) process.stdout.write(`${configTable()}\n`);
