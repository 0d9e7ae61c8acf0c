// Which archives a keep policy keeps: restic's `forget` rules over archive names, nothing else. Pure:
// no storage, no clock. Per base id, newest first: `last N` keeps the N newest; each calendar rule
// (hourly, daily, weekly, monthly, yearly; UTC buckets, ISO weeks) keeps the newest archive of each of
// its N newest buckets; an archive is kept if any rule keeps it (the union), with every reason listed.
// Names that are not archive names never enter: they are neither kept nor removed.
import { AirbackupError } from "../errors.ts";
import { type ArchiveName, parseArchiveName } from "./archive-names.ts";

export const KEEP_RULES = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;
export type KeepRule = (typeof KEEP_RULES)[number];
export type KeepPolicy = Partial<Record<KeepRule, number>>;

export interface RetentionDecision {
  readonly archive: ArchiveName;
  keep: boolean;
  /** Why it is kept ("daily 2026-11-27", "last 1/7", "newest intact archive"); empty when it goes. */
  reasons: string[];
}

export interface BaseRetention {
  readonly baseId: string;
  /** Newest first. */
  readonly decisions: RetentionDecision[];
}

/** Whether the policy keeps at least one archive; a policy that keeps nothing is refused. */
export function keepsSomething(policy: KeepPolicy): boolean {
  return KEEP_RULES.some((rule) => (policy[rule] ?? 0) > 0);
}

/** Throws CONFIG_INVALID for a policy that would keep nothing. */
export function checkPolicy(policy: KeepPolicy | undefined, where = "output.keep"): KeepPolicy {
  if (!policy || !keepsSomething(policy))
    throw new AirbackupError("CONFIG_INVALID", `${where}: the retention policy keeps nothing`, {
      hint: `give at least one of ${KEEP_RULES.join(", ")} a count above 0, e.g. keep: { last: 7, daily: 14 }`,
    });
  return policy;
}

/** Applies the policy per base id to the archive names among `names`; other names are ignored. */
export function applyPolicy(names: Iterable<string>, policy: KeepPolicy): BaseRetention[] {
  checkPolicy(policy);
  const byBase = new Map<string, ArchiveName[]>();
  for (const name of names) {
    const parsed = parseArchiveName(name);
    if (!parsed) continue;
    const list = byBase.get(parsed.baseId) ?? [];
    list.push(parsed);
    byBase.set(parsed.baseId, list);
  }
  return [...byBase.keys()].sort().map((baseId) => {
    const archives = byBase.get(baseId)!.sort(newestFirst);
    const decisions: RetentionDecision[] = archives.map((archive) => ({ archive, keep: false, reasons: [] }));
    for (const rule of KEEP_RULES) {
      const count = policy[rule] ?? 0;
      let kept = 0;
      let lastBucket: string | undefined;
      for (const decision of decisions) {
        if (kept >= count) break;
        const bucket = rule === "last" ? decision.archive.name : bucketOf(rule, decision.archive.at);
        if (bucket === lastBucket) continue; // an older archive of a bucket already represented
        lastBucket = bucket;
        kept++;
        decision.keep = true;
        decision.reasons.push(rule === "last" ? `last ${kept}/${count}` : `${rule} ${bucket}`);
      }
    }
    return { baseId, decisions };
  });
}

/** Keeps `name` whatever the policy says (the newest intact archive of its base), noting why. */
export function protect(base: BaseRetention, name: string, reason: string): void {
  const decision = base.decisions.find((d) => d.archive.name === name);
  if (!decision) return;
  decision.keep = true;
  if (!decision.reasons.includes(reason)) decision.reasons.push(reason);
}

/** The calendar bucket of a time for one rule, in UTC: `2026-11-27T03`, `2026-11-27`, `2026-W48`, `2026-11`, `2026`. */
export function bucketOf(rule: Exclude<KeepRule, "last">, at: Date): string {
  const iso = at.toISOString();
  switch (rule) {
    case "hourly":
      return iso.slice(0, 13);
    case "daily":
      return iso.slice(0, 10);
    case "weekly": {
      const { year, week } = isoWeek(at);
      return `${year}-W${String(week).padStart(2, "0")}`;
    }
    case "monthly":
      return iso.slice(0, 7);
    case "yearly":
      return iso.slice(0, 4);
  }
}

// --- internal ---

function newestFirst(a: ArchiveName, b: ArchiveName): number {
  return b.at.getTime() - a.at.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), in UTC, as Go's ISOWeek. */
function isoWeek(at: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 .. Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return { year, week };
}
