// Archive file names: `<base-name-slug>-<baseId>-<YYYYMMDDTHHMMSSZ>.zip`. Written by backup, parsed by
// list, prune and attachment reuse. A name that does not parse is not an airbackup archive and is
// never touched by prune.

export interface ArchiveName {
  readonly name: string;
  readonly slug: string;
  readonly baseId: string;
  /** When the backup started (UTC, whole seconds), from the name. */
  readonly at: Date;
}

/** The archive's file name: `<base-name-slug>-<baseId>-<YYYYMMDDTHHMMSSZ>.zip`. */
export function archiveName(baseName: string, baseId: string, at: Date): string {
  const slug = baseName
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${slug || "base"}-${baseId}-${stamp}.zip`;
}

const NAME = /^([a-z0-9-]{1,60})-(app[A-Za-z0-9]{14})-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.zip$/;

/** The parts of an archive name, or undefined for any other file name. */
export function parseArchiveName(name: string): ArchiveName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, slug, baseId, y, mo, d, h, mi, s] = m as unknown as string[];
  const at = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!));
  // Round-trip check: 20261332T... is not a date.
  if (Number.isNaN(at.getTime()) || archiveName(slug!, baseId!, at) !== name) return undefined;
  return { name, slug: slug!, baseId: baseId!, at };
}
