// A large format-1 archive written straight through the archive writer (no simulator: a 100,000-record base
// would take minutes at Airtable's rate limit): four tables linked in a ring, every common field type, an
// optional long text to reach a record size, and optional attachment files. For export tests and benchmarks.
import { createArchive } from "../../src/archive/archive-writer.ts";
import type { ArchivedAttachment } from "../../src/archive/contents.ts";

export interface SyntheticOptions {
  /** Records in all, spread over the four tables. */
  records: number;
  /** Pad each record's Notes to about this many bytes of JSON. */
  recordBytes?: number;
  /** Attachment files (each of `fileBytes` random bytes), one per record of the first table until used up. */
  files?: number;
  fileBytes?: number;
}

export const SYNTHETIC_TABLES = ["Companies", "Contacts", "Deals", "Tasks"] as const;

export async function writeSyntheticArchive(path: string, options: SyntheticOptions): Promise<void> {
  const base = { id: "appSYNTHETIC00001", name: "Synthetic CRM" };
  const archive = await createArchive(path, {
    tool: { name: "airbackup", version: "0.1.0" },
    base,
    startedAt: new Date("2026-11-30T03:00:00.000Z"),
  });
  try {
    const tables = SYNTHETIC_TABLES.map((name, t) => ({ id: tableId(t), name, fields: fields(t) }));
    await archive.writeSchema({ tables });
    const perTable = Math.ceil(options.records / tables.length);
    const files: ArchivedAttachment[] = [];
    const fileBytes = options.fileBytes ?? 1_000_000;
    for (let i = 0; i < (options.files ?? 0); i++) {
      const data = crypto.getRandomValues(new Uint8Array(Math.min(fileBytes, 65536)));
      const bytes = new Uint8Array(fileBytes);
      for (let at = 0; at < fileBytes; at += data.length) bytes.set(data.subarray(0, fileBytes - at), at);
      bytes[0] = i & 0xff;
      bytes[1] = (i >> 8) & 0xff;
      const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
      await archive.addAttachment(sha256, bytes, { contentType: "application/octet-stream" });
      files.push({
        id: `att${pad(i)}`,
        sha256,
        filename: `file-${i}.bin`,
        type: "application/octet-stream",
        size: fileBytes,
        table: tableId(0),
        record: recordId(0, i),
        field: "Files",
      });
    }
    for (const [t, table] of tables.entries()) {
      const count = Math.max(0, Math.min(perTable, options.records - t * perTable));
      await archive.writeTable(table, pages(t, count, perTable, options.recordBytes ?? 0, t === 0 ? files : []));
    }
    await archive.writeAttachmentIndex(files);
    await archive.finish({ warnings: [], finishedAt: new Date("2026-11-30T03:10:00.000Z") });
  } catch (error) {
    await archive.abort();
    throw error;
  }
}

// --- internal ---

const pad = (n: number) => n.toString(36).padStart(14, "0");
const tableId = (t: number) => `tblSYNTH${t}00000000`;
const recordId = (t: number, i: number) => `rec${t}${pad(i).slice(1)}`;
const SELECTS = ["Lead", "Qualified", "Proposal", "Won", "Lost"];
const TAGS = ["VIP", "Newsletter", "Partner"];
const USER = { id: "usrSYNTHETIC00001", email: "ada@example.com", name: "Ada Lovelace" };

function fields(t: number) {
  const f = (name: string, type: string, options?: object) => ({
    id: `fld${t}${name.replace(/\W/g, "").padEnd(13, "x").slice(0, 13)}`,
    name,
    type,
    ...(options ? { options } : {}),
  });
  return [
    f("Name", "singleLineText"),
    f("Email", "email"),
    f("Count", "number", { precision: 0 }),
    f("Amount", "currency", { precision: 2, symbol: "$" }),
    f("Share", "percent", { precision: 0 }),
    f("Active", "checkbox", { icon: "check", color: "greenBright" }),
    f("Due", "date", { dateFormat: { name: "iso" } }),
    f("Seen", "dateTime", { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" }),
    f("Stage", "singleSelect", { choices: SELECTS.map((name) => ({ name })) }),
    f("Tags", "multipleSelects", { choices: TAGS.map((name) => ({ name })) }),
    f("Owner", "singleCollaborator", {}),
    f("Rating", "rating", { max: 5 }),
    f("Next", "multipleRecordLinks", {
      linkedTableId: tableId((t + 1) % 4),
      isReversed: false,
      prefersSingleRecordLink: false,
    }),
    f("Files", "multipleAttachments", { isReversed: false }),
    f("Notes", "multilineText"),
  ];
}

async function* pages(
  t: number,
  count: number,
  perTable: number,
  recordBytes: number,
  files: { id: string; filename: string; type: string; size: number }[],
) {
  const filler = "lorem ipsum dolor sit amet ".repeat(Math.ceil(recordBytes / 27));
  for (let start = 0; start < count; start += 100) {
    const page: string[] = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      const day = String((i % 28) + 1).padStart(2, "0");
      const fields: Record<string, unknown> = {
        Name: `Record ${t}-${i} “${SELECTS[i % 5]}”`,
        Email: `user${i}@example.com`,
        Count: i,
        Amount: Math.round(i * 123.45) / 100,
        Share: (i % 100) / 100,
        Due: `2024-03-${day}`,
        Seen: `2024-03-${day}T10:${String(i % 60).padStart(2, "0")}:00.000Z`,
        Stage: SELECTS[i % 5],
        Tags: TAGS.slice(0, i % 4),
        Owner: USER,
        Rating: (i % 5) + 1,
        Next: [recordId((t + 1) % 4, (i + 1) % perTable)],
      };
      if (i % 2 === 0) fields.Active = true;
      const file = files[i];
      if (file)
        fields.Files = [
          {
            id: file.id,
            url: `https://example.invalid/${file.id}`,
            filename: file.filename,
            size: file.size,
            type: file.type,
          },
        ];
      if (recordBytes > 0) fields.Notes = filler.slice(0, Math.max(0, recordBytes - 600));
      page.push(
        JSON.stringify({
          id: recordId(t, i),
          createdTime: `2024-01-01T09:00:${String(i % 60).padStart(2, "0")}.000Z`,
          fields,
        }),
      );
    }
    yield page;
  }
}
