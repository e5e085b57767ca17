import { isUtf8 } from "node:buffer";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { type Document, LineCounter, parseDocument } from "yaml";
import { PROJECT } from "./runbook";

/**
 * The one reader of stack files (`Pulumi.<stack>.yaml`) outside the Pulumi engine: the offline
 * preview's harness, the delivery program, the branch-protection command and the config table read
 * stack settings through here. It needs no Pulumi SDK, so ops/ commands stay fast. (Under
 * `pulumi up` the engine reads the file and config.ts reads `pulumi.Config`.)
 */

/** The repository root, where Pulumi.yaml and the stack files live. */
export const ROOT = __dirname;

/** A stack file that cannot be read or parsed; the message names the file, line and column. Exit code 2. */
export class StackFileError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

export function stackFilePath(stack: string, root = ROOT): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}

/** The stacks that have a file in `root`, sorted: `Pulumi.dev.yaml` is the stack `dev`. */
export function listStacks(root = ROOT): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => /^Pulumi\.(.+)\.yaml$/.exec(entry.name)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/**
 * Refuses a `--stack` that has no stack file here, naming the stacks that do and `alternative` (the
 * command's other way to name a stack's settings, such as `--config-file <file>`).
 * @throws StackFileError (exit 2)
 */
export function requireStackFile(stack: string, alternative: string, root = ROOT): void {
  const stacks = listStacks(root);
  if (!stacks.includes(stack)) throw new StackFileError(`--stack ${stack}: no Pulumi.${stack}.yaml here; the stacks are ${stacks.join(", ")} (or ${alternative})`);
}

/**
 * A stack file's `config` map, keys as written (`aws:region`, `runbook-platform:database`). Throws
 * a StackFileError naming `file:line:column` for a YAML syntax error (the first one in the file), a
 * missing file, or a file whose `config` is not a mapping.
 */
export function readStackFile(stack: string, root = ROOT): Record<string, unknown> {
  return readSettingsFile(stackFilePath(stack, root), root);
}

/** As readStackFile, for a stack file at any path (`npm start -- --config-file <file>`, as `pulumi --config-file`). */
export function readSettingsFile(file: string, root = ROOT): Record<string, unknown> {
  const { doc, shown } = readStackDocument(file, root);
  let content: unknown;
  try {
    content = doc.toJS();
  } catch (error) {
    // Aliases resolve here, not in the parser: an alias without its anchor, or one that expands without end.
    throw new StackFileError(`${shown}: ${error instanceof Error ? error.message : String(error)}\nFix the YAML anchors (&name) and aliases (*name) of ${shown}; nothing was registered.`);
  }
  if (content === null || content === undefined) return {};
  const config = (content as { config?: unknown }).config;
  if (typeof content !== "object" || Array.isArray(content) || (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config)))) {
    throw new StackFileError(`${shown}: expected a mapping with a "config:" mapping of settings (see Pulumi.staging.yaml)`);
  }
  return (config ?? {}) as Record<string, unknown>;
}

/** A stack file parsed as a YAML document (comments and layout kept, for a command that edits it), and how its path is shown. */
export interface StackDocument {
  doc: Document;
  /** The path relative to the working directory when inside it, else as given. */
  shown: string;
  /** The file's line ending, kept when the document is written back. */
  newline: "\n" | "\r\n";
  /** Whether the file starts with a byte-order mark, kept when the document is written back. */
  bom: boolean;
}

/**
 * Reads and parses a stack file: the one way every command opens one.
 * @throws StackFileError (exit 2) naming the file and the fix: missing, a directory, a device or
 * pipe (which would be read forever), not UTF-8 (with the line), or a YAML syntax error (the
 * first one, with its line and column)
 */
export function readStackDocument(file: string, root = ROOT): StackDocument {
  const relative = path.relative(process.cwd(), file);
  const shown = relative.startsWith("..") ? file : relative;
  let text: string;
  try {
    const info = statSync(file);
    if (info.isDirectory()) throw new StackFileError(`${shown}: is a directory; give the stack file itself, such as ${path.join(shown, "Pulumi.staging.yaml")}`);
    if (!info.isFile()) throw new StackFileError(`${shown}: not a regular file (a device or a pipe); give the stack file itself`);
    const bytes = readFileSync(file);
    text = bytes.toString("utf8");
    if (!isUtf8(bytes)) {
      // A Latin-1 or Windows-1252 byte would otherwise reach the plan as U+FFFD (in a header, a name).
      const line = text.slice(0, Math.max(0, text.indexOf("\uFFFD"))).split("\n").length;
      throw new StackFileError(`${shown}:${line}: not valid UTF-8 (a byte from another encoding, such as Latin-1); save the file as UTF-8`);
    }
  } catch (error) {
    if (error instanceof StackFileError) throw error;
    throw new StackFileError(`${shown}: no such stack file; create it (copy Pulumi.staging.yaml and set environment) or pick a stack that has one: ${listStacks(root).join(", ") || "none"}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  const [first, ...cascade] = doc.errors;
  if (first !== undefined) {
    // One unclosed `[` or quote makes the parser report every line after it: the first error is the one to fix.
    const at = lineCounter.linePos(first.pos[0]);
    const more = cascade.length === 0 ? "" : ` (and ${cascade.length} more YAML error${cascade.length === 1 ? "" : "s"} after it; fix this one first, the rest often follow from it)`;
    throw new StackFileError(`${shown}:${at.line}:${at.col}: ${first.message}${more}\nFix the YAML syntax of ${shown} at that line and column; nothing was registered.`);
  }
  return { doc, shown, newline: text.includes("\r\n") ? "\r\n" : "\n", bom: text.startsWith("\uFEFF") };
}

/** The project's settings of a stack file, keyed without the `runbook-platform:` prefix (`database`). */
export function projectSettings(stack: string, root = ROOT): Record<string, unknown> {
  const prefix = `${PROJECT}:`;
  return Object.fromEntries(
    Object.entries(readStackFile(stack, root))
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}
