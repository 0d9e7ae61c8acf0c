// The archives in one or more places (the output directory, the bucket), merged by name, newest first:
// what `airbackup list` shows. Only archive names count; names and times come from the file names.
import { parseArchiveName } from "./archive-names.ts";
import type { Storage } from "./storage.ts";

export interface ListedArchive {
  name: string;
  baseId: string;
  /** The base's name as the file name carries it (lower-case, dashes). */
  slug: string;
  /** When the backup started, UTC, ISO 8601. */
  at: string;
  /** One entry per place holding it, in the order the places were given. */
  places: { where: Storage["kind"]; label: string; size: number }[];
}

/** Every place is listed even if another fails: `failures` holds one error per place that could not be read. */
export async function listArchives(
  places: readonly Storage[],
  bases?: ReadonlySet<string>,
): Promise<{ archives: ListedArchive[]; failures: { label: string; error: unknown }[] }> {
  const byName = new Map<string, ListedArchive>();
  const failures: { label: string; error: unknown }[] = [];
  for (const place of places) {
    try {
      await collect(place, byName, bases);
    } catch (error) {
      failures.push({ label: place.label, error });
    }
  }
  const archives = [...byName.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.name < b.name ? 1 : -1));
  return { archives, failures };
}

// --- internal ---

async function collect(place: Storage, byName: Map<string, ListedArchive>, bases?: ReadonlySet<string>) {
  for await (const object of place.list()) {
    const parsed = parseArchiveName(object.name);
    if (!parsed || (bases && !bases.has(parsed.baseId))) continue;
    const listed = byName.get(object.name) ?? {
      name: parsed.name,
      baseId: parsed.baseId,
      slug: parsed.slug,
      at: parsed.at.toISOString(),
      places: [],
    };
    listed.places.push({ where: place.kind, label: place.label, size: object.size });
    byName.set(object.name, listed);
  }
}
