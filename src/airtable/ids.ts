// Airtable's id shapes: the one definition. Ids from the API or the command line become file names,
// archive entry names and URL paths, so anything not shaped like an id is refused before it gets there.
import { AirbackupError } from "../errors.ts";

export type IdKind = "base" | "table" | "record" | "field" | "attachment";

const PREFIX: Record<IdKind, string> = { base: "app", table: "tbl", record: "rec", field: "fld", attachment: "att" };

/** `app`/`tbl`/`rec`/`fld`/`att` and 14 letters or digits. */
export const ID_PATTERN: Record<IdKind, RegExp> = {
  base: idPattern("base"),
  table: idPattern("table"),
  record: idPattern("record"),
  field: idPattern("field"),
  attachment: idPattern("attachment"),
};

/** e.g. `appXXXXXXXXXXXXXX`, for messages. */
export function idExample(kind: IdKind): string {
  return `${PREFIX[kind]}${"X".repeat(14)}`;
}

export function isAirtableId(kind: IdKind, value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN[kind].test(value);
}

/** The id, or an AirbackupError naming where it came from (e.g. `the list of bases`). */
export function checkAirtableId(kind: IdKind, value: unknown, from: string): string {
  if (isAirtableId(kind, value)) return value;
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : String(value);
  throw new AirbackupError(
    "AIRTABLE_BAD_RESPONSE",
    `refusing ${kind} id ${shown} from ${from}: not an Airtable ${kind} id like ${idExample(kind)}`,
    { hint: "ids become file and entry names; check AIRTABLE_API_URL points at Airtable" },
  );
}

function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${PREFIX[kind]}[A-Za-z0-9]{14}$`);
}
