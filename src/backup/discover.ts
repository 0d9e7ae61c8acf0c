// Which bases and tables one run backs up: from the config and flags, else everything the token can read.

import { createHash } from "node:crypto";
import type { AirtableClient } from "../airtable/client.ts";
import { ID_PATTERN } from "../airtable/ids.ts";
import { getBaseSchema, listBases } from "../airtable/read.ts";
import type { AirtableTable, AirtableTables } from "../airtable/schemas.ts";
import { AirbackupError } from "../errors.ts";

export interface BaseTarget {
  id: string;
  /** Table names or ids to back up; undefined = every table. */
  tables?: string[];
}

export interface BasePlan {
  id: string;
  name: string;
  /** The Meta API's answer as returned, or null when the token lacks schema.bases:read. */
  schema: AirtableTables | null;
  tables: PlannedTable[];
  warnings: string[];
}

export interface PlannedTable {
  /** The table id, or (without schema access) the name or id the config gave. */
  id: string;
  name: string;
  /** A safe, unique spool file and archive entry name: the id, or (without schema access) one derived from the name. */
  key: string;
  /** Field name -> type, when the schema is known (used to find attachment fields). */
  fieldTypes: Map<string, string>;
}

/** The bases to back up: the explicit targets, or every base the token can read. */
export async function listTargets(
  client: AirtableClient,
  targets: BaseTarget[] | undefined,
): Promise<{ targets: BaseTarget[]; names: Map<string, string> }> {
  const names = new Map<string, string>();
  if (targets && targets.length > 0) {
    try {
      for (const base of await listBases(client)) names.set(base.id, base.name);
    } catch (error) {
      // Names only make the file names friendlier; without schema.bases:read the id stands in.
      if (!(error instanceof AirbackupError) || error.code !== "AIRTABLE_FORBIDDEN") throw error;
    }
    return { targets, names };
  }
  const bases = await listBases(client);
  for (const base of bases) names.set(base.id, base.name);
  return { targets: bases.filter((b) => b.permissionLevel !== "none").map((b) => ({ id: b.id })), names };
}

/** Reads a base's schema and picks its tables; falls back to the configured tables without schema access. */
export async function planBase(
  client: AirtableClient,
  target: BaseTarget,
  name: string | undefined,
): Promise<BasePlan> {
  const warnings: string[] = [];
  let schema: AirtableTables | null = null;
  try {
    schema = await getBaseSchema(client, target.id);
  } catch (error) {
    if (!(error instanceof AirbackupError) || error.code !== "AIRTABLE_FORBIDDEN" || !target.tables?.length)
      throw error;
    warnings.push(
      `could not read the schema of ${target.id} (the token may lack schema.bases:read); backed up the tables named in the config without schema.json`,
    );
  }
  const baseName = name ?? target.id;
  if (!schema) {
    const tables = (target.tables ?? []).map((t) => ({
      id: t,
      name: t,
      key: tableKey(t),
      fieldTypes: new Map<string, string>(),
    }));
    return { id: target.id, name: baseName, schema, tables, warnings };
  }
  return {
    id: target.id,
    name: baseName,
    schema,
    tables: pickTables(schema.tables, target.tables, target.id),
    warnings,
  };
}

/** Describes what changed between two schema reads (names matter: records are stored by field name). */
export function describeSchemaChanges(before: AirtableTables, after: AirtableTables, tableIds: Set<string>): string[] {
  const changes: string[] = [];
  const afterTables = new Map(after.tables.map((t) => [t.id, t]));
  for (const table of before.tables) {
    if (!tableIds.has(table.id)) continue;
    const now = afterTables.get(table.id);
    if (!now) {
      changes.push(`table "${table.name}" (${table.id}) was deleted during the backup`);
      continue;
    }
    if (now.name !== table.name)
      changes.push(`table "${table.name}" (${table.id}) was renamed to "${now.name}" during the backup`);
    const fieldsNow = new Map(now.fields.map((f) => [f.id, f]));
    for (const field of table.fields) {
      const f = fieldsNow.get(field.id);
      if (!f)
        changes.push(`field "${field.name}" (${field.id}) of table "${table.name}" was deleted during the backup`);
      else if (f.name !== field.name)
        changes.push(
          `field "${field.name}" (${field.id}) of table "${table.name}" was renamed to "${f.name}" during the backup`,
        );
      else if (f.type !== field.type)
        changes.push(
          `field "${field.name}" (${field.id}) of table "${table.name}" changed type from ${field.type} to ${f.type} during the backup`,
        );
    }
    const known = new Set(table.fields.map((f) => f.id));
    for (const f of now.fields)
      if (!known.has(f.id))
        changes.push(`field "${f.name}" (${f.id}) was added to table "${table.name}" during the backup`);
  }
  return changes;
}

/**
 * The entry name of a table known only by what the config gave: an id as it is; a name sanitised,
 * plus a short hash of the exact name, so names that sanitise alike ("Контакты", "Заказы") stay apart.
 */
export function tableKey(configured: string): string {
  if (ID_PATTERN.table.test(configured)) return configured;
  const safe = configured.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60);
  const hash = createHash("sha256").update(configured).digest("hex").slice(0, 12);
  return `${safe}-${hash}`;
}

// --- internal ---

function pickTables(tables: AirtableTable[], wanted: string[] | undefined, baseId: string): PlannedTable[] {
  const toPlan = (t: AirtableTable): PlannedTable => ({
    id: t.id,
    name: t.name,
    key: t.id,
    fieldTypes: new Map(t.fields.map((f) => [f.name, f.type])),
  });
  if (!wanted?.length) return tables.map(toPlan);
  return wanted.map((want) => {
    const table =
      tables.find((t) => t.id === want) ??
      tables.find((t) => t.name === want) ??
      tables.find((t) => t.name.toLowerCase() === want.toLowerCase());
    if (!table) {
      throw new AirbackupError("CONFIG_INVALID", `base ${baseId} has no table "${want}"`, {
        hint: `its tables are: ${tables.map((t) => `${t.name} (${t.id})`).join(", ")}`,
      });
    }
    return toPlan(table);
  });
}
