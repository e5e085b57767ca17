import { z } from "zod";
import { PROJECT } from "../runbook";
import { configSchema, RETIRED_KEYS } from "./schema";

/**
 * Problems with a stack's settings, in the user's terms: the key's full path, the value seen (never
 * a value that may be a secret) and the form expected, said in YAML terms rather than zod's.
 */

/** One bad setting: its path under the project (`cache.nodeCount`), or a namespaced key (`aws:region`). */
export interface Problem {
  path: string;
  got: unknown;
  expected: string;
}

/** The key as the user writes it: `runbook-platform:cache.nodeCount`, `aws:region`, or the stack's name. */
function keyName(path: string): string {
  if (path === STACK_NAME_PATH) return "the stack's name";
  return path.includes(":") ? path : `${PROJECT}:${path}`;
}

/** The path of a problem with the stack's name itself (not a setting). */
export const STACK_NAME_PATH = "(stack)";

/** Raised for any bad setting; lists every problem with the value seen and the form expected. */
export class ConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly Problem[],
  ) {
    const stack = stackName;
    // One line per key: a key whose form is wrong is not also reported by a rule that reads it.
    const lines = problems.filter((p, i) => problems.findIndex((q) => q.path === p.path) === i);
    super(
      [
        `Invalid configuration for stack "${stack}" (${lines.length} problem${lines.length === 1 ? "" : "s"}); nothing was registered.`,
        ...lines.map((p) => `  - ${keyName(p.path)}: got ${describe(p.got)}; expected ${p.expected}`),
        `Fix each key in the stack's settings, Pulumi.${stack}.yaml or the --config-file given (or: pulumi config set --path <key> <value>); the README's config table lists every key.`,
      ].join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Stands for a value the error must not print. */
export const NOT_SHOWN = Symbol("not shown");

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (value === NOT_SHOWN) return "a value (not shown: it may be a secret)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function issuePath(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  return path.join(".");
}

/** The problems of one zod issue: one per unknown key, else one for the issue's key. */
export function toProblems(issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === "unrecognized_keys") {
    const section = issue.input as Record<string, unknown> | undefined;
    return issue.keys.map((key) => {
      const path = [...issue.path.map(String), key].join(".");
      const retired = RETIRED_KEYS[path];
      // A retired key's value is shown (its form is known); a mistyped key's never: it may hold a secret.
      return retired
        ? { path, got: section?.[key], expected: retired }
        : { path, got: NOT_SHOWN, expected: "no such key (check its spelling against the README's config table)" };
    });
  }
  return [{ path: issuePath(issue), got: issue.input, expected: issueExpected(issue) }];
}

/** The schema node at a dotted path of the settings, through optional and default wrappers. */
function schemaAt(path: readonly PropertyKey[]): z.ZodType | undefined {
  let node: z.ZodType | undefined = configSchema;
  for (const key of path) {
    while (node instanceof z.ZodOptional || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[String(key)];
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else return undefined;
  }
  while (node instanceof z.ZodOptional || node instanceof z.ZodDefault) node = node.unwrap() as z.ZodType;
  return node;
}

/** The form a key expects, said in YAML terms: never zod's own wording, which names types YAML users do not write. */
function issueExpected(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.expected === "object") {
    return "a section of settings (a YAML mapping; the README's config table lists its keys)";
  }
  if (issue.code === "invalid_type" && issue.expected === "array") {
    const list = schemaAt(issue.path);
    const element = list instanceof z.ZodArray ? (list.element as z.ZodType).description : undefined;
    return `a list${element ? ` (each item ${element})` : ""}, not a single value: one "- item" per line under the key, even for one item`;
  }
  const quoted = typeof issue.input === "string" ? issue.input.trim() : undefined;
  const quotedNumber = quoted !== undefined && quoted !== "" && Number.isFinite(Number(quoted));
  const quotedBoolean = quoted === "true" || quoted === "false";
  if (issue.code === "invalid_type" && ((issue.expected === "number" && quotedNumber) || (issue.expected === "boolean" && quotedBoolean))) {
    const what = issue.expected === "number" ? "a number" : "a boolean";
    return `${issue.message}, without quotes: the quoted "${issue.input}" is a string where ${what} belongs`;
  }
  if (issue.code === "invalid_type" && issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean")) {
    return `${issue.message}, in quotes: YAML reads ${String(issue.input)} unquoted as a ${typeof issue.input}`;
  }
  return issue.message;
}
