import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { CliError, createCommand, runAsProcess } from "../ops/lib/cli";
import { configSchema, PROJECT, SECRET_KEYS } from "../config";
import { STACKS } from "../runbook";
import { readStackFile, ROOT } from "../stackFiles";

/**
 * The README's config reference, generated from the zod schema (what each key accepts) and the
 * stack files (what each stack sets), so the table cannot drift from the code:
 * `npm run config:table` prints it, `npm run config:table -- --write` puts it in the README, and
 * tests/readme.test.ts checks the README holds exactly this.
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

const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

/** The README with the table between its markers replaced by `table`; throws when the markers are missing. */
export function withConfigTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END, start);
  if (start === -1 || end === -1) throw new CliError(`README.md has no ${START} ... ${END} markers; add them where the table belongs`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const program = createCommand("config:table", "The README's config reference, generated from the zod schema and the stack files.").option(
    "--write",
    "replace the table in README.md (between its config-table markers) instead of printing it",
  );
  runAsProcess<{ write?: boolean }>(program, async (options, io) => {
    const table = configTable();
    if (!options.write) {
      io.stdout(`${table}\n`);
      return 0;
    }
    const file = path.join(ROOT, "README.md");
    const before = readFileSync(file, "utf8");
    const after = withConfigTable(before, table);
    if (after !== before) writeFileSync(file, after);
    io.stderr(after === before ? "README.md: the config table is already current\n" : "README.md: config table rewritten\n");
    return 0;
  });
}
