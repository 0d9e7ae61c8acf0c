// The attachments pass against the simulator: the size that counts is the zip entry's real one, and an
// upload answered 413 is a reported skip that a resume does not send again.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchivedAttachment } from "../../src/archive/contents.ts";
import type { ArchiveSource } from "../../src/restore/archive-source.ts";
import { type AttachmentTargets, attachmentKey, restoreAttachments } from "../../src/restore/attachments.ts";
import type { RestoreContext, RestoreEvent } from "../../src/restore/context.ts";
import { openJournal } from "../../src/restore/journal.ts";
import { BASE_ID, fakeId, simClient, TABLE_ID, tinyBase } from "../airtable/sim-client.ts";
import { type AirtableSim, startAirtableSim } from "../support/airtable-sim/index.ts";

const OLD_TABLE = "tblOLD0000000001";
const OLD_RECORD = fakeId("rec", "OLD1");
const NEW_RECORD = fakeId("rec", 3);
const BYTES = new TextEncoder().encode("small file");
const SHA = new Bun.CryptoHasher("sha256").update(BYTES).digest("hex");
const targets: AttachmentTargets = new Map([
  [`${OLD_TABLE}/Files`, { tableName: "Clients", tableId: TABLE_ID, fieldId: fakeId("fld", "FILES") }],
]);

let dir: string;
let sim: AirtableSim;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "airbackup-attachments-"));
  sim = await startAirtableSim({ bases: [tinyBase()], perBaseRps: 1000, perUserRps: 1000 });
});
afterEach(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function context(att: ArchivedAttachment, realSize: number, events: RestoreEvent[] = []) {
  const reads = { bytes: 0 };
  const source = {
    attachments: async function* () {
      yield att;
    },
    fileSize: (sha: string) => (sha === SHA ? realSize : undefined),
    fileBytes: async () => {
      reads.bytes++;
      return BYTES;
    },
  } as unknown as ArchiveSource;
  const journal = openJournal(join(dir, "j.jsonl"));
  journal.append({ t: "created", table: OLD_TABLE, pairs: [[OLD_RECORD, NEW_RECORD]] });
  const ctx: RestoreContext = {
    client: simClient(sim),
    baseId: BASE_ID,
    journal,
    source,
    typecast: false,
    onEvent: (e) => events.push(e),
  };
  return { ctx, reads };
}

const attachment = (extra: Partial<ArchivedAttachment> = {}): ArchivedAttachment =>
  ({
    id: "attOLD1",
    sha256: SHA,
    filename: "big.bin",
    type: "application/octet-stream",
    table: OLD_TABLE,
    record: OLD_RECORD,
    field: "Files",
    ...extra,
  }) as ArchivedAttachment;

test("an attachment with no size in the index but over 5 MB in the zip is skipped without reading it", async () => {
  const events: RestoreEvent[] = [];
  const att = attachment(); // no `size`
  const { ctx, reads } = context(att, 6 * 1024 * 1024, events);
  await restoreAttachments(ctx, targets, "auto");
  expect(reads.bytes).toBe(0);
  expect(sim.counters.requests.uploadAttachment ?? 0).toBe(0);
  expect(ctx.journal.state.attachments.get(attachmentKey(att))?.skipped).toMatch(/over the 5 MB upload limit/);
  expect(events.some((e) => e.type === "skip")).toBe(true);
  ctx.journal.close();
});

test("an attachment whose index size understates the zip entry is skipped by the real size", async () => {
  const att = attachment({ size: 10 });
  const { ctx, reads } = context(att, 7 * 1024 * 1024);
  await restoreAttachments(ctx, targets, "auto");
  expect(reads.bytes).toBe(0);
  expect(ctx.journal.state.attachments.get(attachmentKey(att))?.skipped).toMatch(/7\.3 MB/);
  ctx.journal.close();
});

test("an upload answered 413 is a reported skip and a resume does not send it again", async () => {
  sim.onRequest((info) =>
    info.route === "uploadAttachment"
      ? Response.json({ error: { type: "REQUEST_TOO_LARGE", message: "too large" } }, { status: 413 })
      : undefined,
  );
  const events: RestoreEvent[] = [];
  const att = attachment({ size: BYTES.byteLength });
  const { ctx } = context(att, BYTES.byteLength, events);
  await restoreAttachments(ctx, targets, "auto");
  expect(sim.counters.requests.uploadAttachment).toBe(1);
  expect(ctx.journal.state.attachments.get(attachmentKey(att))?.skipped).toMatch(/413/);
  expect(events.some((e) => e.type === "skip" && /413/.test(e.message))).toBe(true);
  ctx.journal.close();

  // Resume: the same journal, the same archive.
  const again = context(att, BYTES.byteLength);
  await restoreAttachments(again.ctx, targets, "auto");
  expect(sim.counters.requests.uploadAttachment).toBe(1);
  again.ctx.journal.close();
});
