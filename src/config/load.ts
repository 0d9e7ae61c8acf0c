// Finds and reads airbackup.yaml: YAML, ${VAR} interpolation, valibot validation, one clear message.
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import * as v from "valibot";
import { parseDocument } from "yaml";
import { DEFAULT_API_URL, DEFAULT_CONTENT_URL } from "../airtable/client.ts";
import { AirbackupError } from "../errors.ts";
import { type Config, ConfigSchema } from "./schema.ts";

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null when none was found (defaults and environment only). */
  path: string | null;
  /** Problems worth a warning that do not stop the run (the command logs them). */
  warnings: string[];
}

/** Finds the config: `-c PATH`, else ./airbackup.yaml if present, else $AIRBACKUP_CONFIG, else none. */
export function findConfigPath(explicit: string | undefined, env = process.env): string | null {
  if (explicit) return explicit;
  if (existsSync("airbackup.yaml")) return "airbackup.yaml";
  return env.AIRBACKUP_CONFIG || null;
}

export async function loadConfig(explicit?: string, env = process.env): Promise<LoadedConfig> {
  const path = findConfigPath(explicit, env);
  if (path === null) return { config: v.parse(ConfigSchema, {}), path, warnings: [] };
  const file = Bun.file(path);
  if (!(await file.exists())) {
    throw new AirbackupError("CONFIG_INVALID", `${path}: config file not found`, {
      hint: "create one with `airbackup init`",
    });
  }
  const text = await file.text();
  const config = parseConfig(text, path, env);
  return { config, path, warnings: await literalTokenWarnings(text, path) };
}

/** A token written in the file (not `${VAR}`) in a file that group or others can read is a leak waiting. */
async function literalTokenWarnings(text: string, path: string): Promise<string[]> {
  const token = (parseDocument(text).toJS() as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(token)) return [];
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o044) === 0) return [];
  return [
    `${path} holds a literal token and is readable by ${mode & 0o004 ? "everyone" : "its group"} (mode ${mode.toString(8).padStart(4, "0")}): run chmod 600 ${path}, or write token: \${AIRTABLE_TOKEN} and keep the token in an environment file of mode 0600`,
  ];
}

/** Parses config text; `source` names the file in messages. */
export function parseConfig(
  text: string,
  source: string,
  env: Record<string, string | undefined> = process.env,
): Config {
  const doc = parseDocument(text, { prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = yamlError.linePos?.[0]
      ? ` (line ${yamlError.linePos[0].line}, column ${yamlError.linePos[0].col})`
      : "";
    throw new AirbackupError("CONFIG_INVALID", `${source}: invalid YAML${where}: ${firstLine(yamlError.message)}`);
  }
  const parsed: unknown = doc.toJS() ?? {};
  const raw = interpolate(parsed, env, source, []);
  const result = v.safeParse(ConfigSchema, raw);
  if (result.success) {
    if (result.output.prune && !result.output.output.keep)
      throw new AirbackupError("CONFIG_INVALID", `${source}: prune: true needs a retention policy in output.keep`, {
        hint: "add e.g. output: { keep: { last: 7, daily: 14 } }, or remove prune: true",
      });
    return result.output;
  }
  const issue = result.issues[0];
  const more =
    result.issues.length > 1
      ? ` (and ${result.issues.length - 1} more problem${result.issues.length > 2 ? "s" : ""})`
      : "";
  throw new AirbackupError("CONFIG_INVALID", `${source}: ${describeIssue(issue)}${more}`);
}

// --- internal ---

type Issue = v.InferIssue<typeof ConfigSchema>;

function describeIssue(issue: Issue): string {
  const keys = (issue.path ?? []).map((item) => item.key as string | number);
  if (issue.kind === "schema" && issue.type === "strict_object" && keys.length > 0) {
    const unknown = String(keys.at(-1));
    const parentPath = keys.slice(0, -1);
    const known = objectKeysAt(parentPath);
    const nearest = nearestKey(unknown, known);
    const where = parentPath.length ? ` in ${formatPath(parentPath)}` : "";
    return `unknown key "${unknown}"${where}${nearest ? `; did you mean "${nearest}"?` : `; expected one of ${known.join(", ")}`}`;
  }
  const where = keys.length ? formatPath(keys) : "(top level)";
  const received = describeReceived(issue.input, keys);
  const custom = !issue.message.startsWith("Invalid ");
  const expected = custom ? issue.message : describeExpected(issue.expected ?? issue.message);
  return `${where}: expected ${expected}, got ${received}`;
}

/** Keys whose values are secrets: a message names the key and the expected shape, never the value. */
const SECRET_KEYS = new Set(["token", "accessKeyId", "secretAccessKey"]);

/** What was found, for a message; a secret (or anything holding one) is described by its type only. */
function describeReceived(input: unknown, keys: (string | number)[]): string {
  if (input === undefined) return "nothing";
  if (keys.some((key) => SECRET_KEYS.has(String(key))) || holdsSecret(input)) return `a value of type ${kindOf(input)}`;
  return JSON.stringify(input);
}

function holdsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value && typeof value === "object")
    return Object.entries(value).some(([key, item]) => SECRET_KEYS.has(key) || holdsSecret(item));
  return false;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "mapping";
  return typeof value;
}

function describeExpected(expected: string): string {
  return expected
    .replace(/^Object$/, "a mapping")
    .replace(/^Array$/, "a list")
    .replace(/^>=(\S+)$/, "a number >= $1")
    .replace(/^<=(\S+)$/, "a number <= $1")
    .replace(/"/g, "");
}

/** Walks ConfigSchema along a path to list the keys an object there accepts. */
function objectKeysAt(path: (string | number)[]): string[] {
  let schema: unknown = ConfigSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (typeof key === "number") schema = (schema as { item?: unknown }).item;
    else schema = (schema as { entries?: Record<string, unknown> }).entries?.[key];
  }
  const entries = (unwrap(schema) as { entries?: Record<string, unknown> }).entries;
  return entries ? Object.keys(entries) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { type?: string; wrapped?: unknown; pipe?: unknown[] };
  while (s && (s.type === "optional" || s.type === "nullable")) s = s.wrapped as typeof s;
  return s;
}

function nearestKey(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function formatPath(path: (string | number)[]): string {
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? key : `.${key}`)).join("");
}

/** Replaces ${VAR} in every string value (after YAML parsing, so values cannot inject YAML). */
function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  source: string,
  path: (string | number)[],
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined || found === "") {
        throw new AirbackupError(
          "CONFIG_INVALID",
          `${source}: ${formatPath(path)}: environment variable ${name} is not set`,
          {
            hint: `export ${name}=… before running airbackup`,
          },
        );
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, source, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, item]) => [k, interpolate(item, env, source, [...path, k])]),
    );
  }
  return value;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export interface AirtableSettings {
  token: string;
  apiUrl: string;
  contentUrl: string;
}

/** The one place the environment overrides Airtable settings: token, then the two endpoint URLs. */
export function resolveAirtable(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): AirtableSettings {
  const token = config.token || env.AIRTABLE_TOKEN;
  if (!token) {
    throw new AirbackupError("CONFIG_MISSING", "no Airtable token", {
      hint: "set AIRTABLE_TOKEN or `token:` in airbackup.yaml (a personal access token, see https://airtable.com/create/tokens)",
    });
  }
  return {
    token,
    apiUrl: stripSlash(env.AIRTABLE_API_URL || DEFAULT_API_URL),
    contentUrl: stripSlash(env.AIRTABLE_CONTENT_URL || DEFAULT_CONTENT_URL),
  };
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
