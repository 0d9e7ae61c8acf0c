// restic's forget rules over archive names: buckets in UTC, newest per bucket, union of rules, per base.
import { describe, expect, test } from "bun:test";
import { archiveName } from "../../src/storage/archive-names.ts";
import { applyPolicy, bucketOf, checkPolicy, type KeepPolicy, protect } from "../../src/storage/retention.ts";

const A = "appAAAAAAAAAAAAAA";
const B = "appBBBBBBBBBBBBBB";
const at = (iso: string) => new Date(iso);
const name = (iso: string, base = A) => archiveName(base === A ? "CRM" : "Ops", base, at(iso));

/** The kept archives' times (newest first) with their reasons, for one base. */
function kept(isos: string[], policy: KeepPolicy, base = A): Record<string, string[]> {
  const [plan] = applyPolicy(
    isos.map((iso) => name(iso, base)),
    policy,
  );
  return Object.fromEntries(
    plan!.decisions.filter((d) => d.keep).map((d) => [d.archive.at.toISOString().replace(".000", ""), d.reasons]),
  );
}

describe("retention policy", () => {
  test.each([
    [{}],
    [{ last: 0 }],
    [{ last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 }],
  ] as KeepPolicy[][])("a policy that keeps nothing is refused: %j", (policy) => {
    expect(() => checkPolicy(policy)).toThrow(/keeps nothing/);
    expect(() => applyPolicy([name("2026-01-01T00:00:00Z")], policy)).toThrow(/keeps nothing/);
  });

  test("last N keeps the N newest, whatever their times", () => {
    const isos = ["2026-11-01T03:00:00Z", "2026-11-01T03:00:01Z", "2026-11-01T03:00:02Z", "2026-10-01T00:00:00Z"];
    expect(kept(isos, { last: 2 })).toEqual({
      "2026-11-01T03:00:02Z": ["last 1/2"],
      "2026-11-01T03:00:01Z": ["last 2/2"],
    });
  });

  test("daily keeps the newest archive of each of the N newest days that have archives (gaps skipped)", () => {
    const isos = [
      "2026-11-10T01:00:00Z",
      "2026-11-10T23:00:00Z", // newest of the 10th
      "2026-11-05T12:00:00Z",
      "2026-11-01T08:00:00Z",
      "2026-11-01T09:00:00Z", // newest of the 1st
      "2026-10-20T09:00:00Z", // a fourth day: beyond daily 3
    ];
    expect(kept(isos, { daily: 3 })).toEqual({
      "2026-11-10T23:00:00Z": ["daily 2026-11-10"],
      "2026-11-05T12:00:00Z": ["daily 2026-11-05"],
      "2026-11-01T09:00:00Z": ["daily 2026-11-01"],
    });
  });

  test("rules are a union, and every reason is listed", () => {
    const isos = ["2026-11-27T03:00:00Z", "2026-11-26T03:00:00Z", "2026-11-25T03:00:00Z", "2026-10-31T03:00:00Z"];
    expect(kept(isos, { last: 1, daily: 2, monthly: 2 })).toEqual({
      "2026-11-27T03:00:00Z": ["last 1/1", "daily 2026-11-27", "monthly 2026-11"],
      "2026-11-26T03:00:00Z": ["daily 2026-11-26"],
      "2026-10-31T03:00:00Z": ["monthly 2026-10"],
    });
  });

  test("a month of nightly backups under last 3, daily 7, weekly 4, monthly 12", () => {
    const isos = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2026, 10, 30 - i, 3)).toISOString());
    const result = kept(isos, { last: 3, daily: 7, weekly: 4, monthly: 12 });
    // 7 newest days (24th..30th); Sundays close ISO weeks: 29th (W48), 22nd (W47), 15th (W46), 8th (W45);
    // the week of the 30th (Monday, W49) is its own; the month's newest is the 30th.
    expect(Object.keys(result).map((k) => k.slice(8, 10))).toEqual([
      "30",
      "29",
      "28",
      "27",
      "26",
      "25",
      "24",
      "22",
      "15",
    ]);
    expect(result["2026-11-30T03:00:00Z"]).toEqual([
      "last 1/3",
      "daily 2026-11-30",
      "weekly 2026-W49",
      "monthly 2026-11",
    ]);
    expect(result["2026-11-29T03:00:00Z"]).toEqual(["last 2/3", "daily 2026-11-29", "weekly 2026-W48"]);
    expect(result["2026-11-15T03:00:00Z"]).toEqual(["weekly 2026-W46"]);
  });

  test("buckets are UTC calendar units; weeks are ISO weeks (Monday first, the year of its Thursday)", () => {
    expect(bucketOf("hourly", at("2026-11-27T03:59:59Z"))).toBe("2026-11-27T03");
    expect(bucketOf("daily", at("2026-11-27T23:59:59Z"))).toBe("2026-11-27");
    expect(bucketOf("daily", at("2026-11-28T00:00:00Z"))).toBe("2026-11-28");
    expect(bucketOf("daily", at("2026-11-28T00:30:00+02:00"))).toBe("2026-11-27"); // 22:30 UTC
    expect(bucketOf("weekly", at("2024-12-30T00:00:00Z"))).toBe("2025-W01"); // a Monday in 2025's week 1
    expect(bucketOf("weekly", at("2026-12-31T12:00:00Z"))).toBe("2026-W53");
    expect(bucketOf("weekly", at("2027-01-03T23:00:00Z"))).toBe("2026-W53"); // Sunday
    expect(bucketOf("weekly", at("2027-01-04T00:00:00Z"))).toBe("2027-W01"); // Monday
    expect(bucketOf("weekly", at("2026-01-01T00:00:00Z"))).toBe("2026-W01"); // a Thursday
    expect(bucketOf("monthly", at("2026-02-28T23:00:00Z"))).toBe("2026-02");
    expect(bucketOf("yearly", at("2026-12-31T23:59:59Z"))).toBe("2026");
  });

  test("hourly and yearly", () => {
    const isos = ["2026-11-27T03:40:00Z", "2026-11-27T03:10:00Z", "2026-11-27T02:59:00Z", "2025-06-01T00:00:00Z"];
    expect(kept(isos, { hourly: 2, yearly: 5 })).toEqual({
      "2026-11-27T03:40:00Z": ["hourly 2026-11-27T03", "yearly 2026"],
      "2026-11-27T02:59:00Z": ["hourly 2026-11-27T02"],
      "2025-06-01T00:00:00Z": ["yearly 2025"],
    });
  });

  test("each base is judged on its own", () => {
    const names = [
      name("2026-11-27T03:00:00Z", A),
      name("2026-11-26T03:00:00Z", A),
      name("2026-11-20T03:00:00Z", B),
      name("2026-11-19T03:00:00Z", B),
    ];
    const plans = applyPolicy(names, { last: 1 });
    expect(plans.map((p) => p.baseId)).toEqual([A, B]);
    expect(plans.map((p) => p.decisions.map((d) => d.keep))).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  test("the same base under a new name (slug) is still one base", () => {
    const names = [
      archiveName("CRM", A, at("2026-11-26T03:00:00Z")),
      archiveName("CRM 2", A, at("2026-11-27T03:00:00Z")),
    ];
    const [plan] = applyPolicy(names, { last: 1 });
    expect(plan!.decisions.map((d) => [d.archive.name, d.keep])).toEqual([
      [names[1]!, true],
      [names[0]!, false],
    ]);
  });

  test("names that are not archive names never enter a decision", () => {
    const foreign = [
      "notes.zip",
      `${name("2026-11-27T03:00:00Z")}.partial`,
      ".airbackup-appAAAAAAAAAAAAAA-x1y2z3",
      ".airbackup-appAAAAAAAAAAAAAA.lock",
      `${name("2026-11-27T03:00:00Z")}.restore-appCCCCCCCCCCCCCC.journal.jsonl`,
      "crm-appAAAAAAAAAAAAAA-20261127T030000Z.ZIP",
    ];
    const plans = applyPolicy([...foreign, name("2026-11-26T03:00:00Z")], { last: 1 });
    expect(plans.flatMap((p) => p.decisions.map((d) => d.archive.name))).toEqual([name("2026-11-26T03:00:00Z")]);
  });

  test("protect keeps an archive the policy would remove, saying why", () => {
    const names = [name("2026-11-27T03:00:00Z"), name("2026-11-26T03:00:00Z")];
    const [plan] = applyPolicy(names, { last: 1 });
    protect(plan!, names[1]!, "newest intact archive");
    expect(plan!.decisions.map((d) => [d.keep, d.reasons])).toEqual([
      [true, ["last 1/1"]],
      [true, ["newest intact archive"]],
    ]);
  });
});
