// sampleBase(): a small CRM (Companies, Contacts, Deals, Tasks) using nearly every field type,
// links both ways and a self-link, computed fields with plausible values, shared attachments.
import { pdfDocument, pngImage, textFile } from "./assets.ts";
import { stableId } from "./ids.ts";
import type { FieldSchema, SeedAttachment, SimBaseSeed, SimRecordSeed, SimUser } from "./types.ts";

export const SAMPLE_USERS: SimUser[] = [
  { id: stableId("usr", "ada"), email: "ada@example.com", name: "Ada Lovelace" },
  { id: stableId("usr", "grace"), email: "grace@example.com", name: "Grace Hopper" },
  { id: stableId("usr", "linus"), email: "linus@example.com", name: "Linus Torvalds" },
];
const [ADA, GRACE, LINUS] = SAMPLE_USERS as [SimUser, SimUser, SimUser];

export function sampleBase(): SimBaseSeed {
  const files = {
    logoA: att("acme-logo.png", "image/png", pngImage(48, 32, 10)),
    logoB: att("globex-logo.png", "image/png", pngImage(40, 40, 200)),
    contract: att("Master services agreement.pdf", "application/pdf", pdfDocument("Master services agreement")),
    leads: att(
      "leads.csv",
      "text/csv",
      textFile("name,email\nAda Lovelace,ada@example.com\nAlan Turing,alan@example.com\n"),
    ),
    notes: att("call notes.txt", "text/plain", textFile("Call went well.\nFollow up next week.\n")),
  };

  const companies = [
    company(1, "Acme Corp", {
      Website: "https://acme.example.com",
      Industry: "Manufacturing",
      Employees: 1200,
      "Annual revenue": 45_000_000,
      Founded: "1948-05-01",
      Notes: "Long-time customer.\nPrefers email.",
      Logo: [files.logoA],
    }),
    company(2, "Globex", {
      Website: "https://globex.example.com",
      Industry: "Software",
      Employees: 350,
      "Annual revenue": 12_500_000.5,
      Founded: "1989-11-20",
      Logo: [files.logoB],
    }),
    company(3, "Initech", {
      Industry: "Software",
      Employees: 80,
      "Annual revenue": 2_300_000,
      Founded: "1995-02-19",
      Logo: [files.logoA],
      "Parent company": [rec("company", 2)],
    }),
    company(4, "Umbrella Health", {
      Industry: "Healthcare",
      Employees: 5000,
      "Annual revenue": 0,
      Founded: "1970-01-01",
    }),
    company(5, "Stark Retail", { Industry: "Retail", Employees: 0, "Parent company": [rec("company", 1)] }),
  ];
  const contacts = [
    contact(1, "Ada Lovelace", 1, {
      Email: "ada.l@acme.example.com",
      Phone: "+1 415 555 0101",
      Title: "CTO",
      Tags: ["VIP", "Newsletter"],
      Active: true,
      Rating: 5,
      Badge: { text: "A-0001", type: "code128" },
      Owner: ADA,
      Photo: [files.logoB],
      "Last contacted": "2024-03-01T14:30:00.000Z",
    }),
    contact(2, "Alan Turing", 1, {
      Email: "alan@acme.example.com",
      Title: "Researcher",
      Tags: ["Partner"],
      Active: true,
      Rating: 4,
      Owner: GRACE,
    }),
    contact(3, "Grace Murray", 2, {
      Email: "grace.m@globex.example.com",
      Phone: "(650) 555-1234",
      Active: false,
      Rating: 3,
      "Last contacted": "2024-02-11T09:05:00.000Z",
    }),
    contact(4, "Katherine Johnson", 2, {
      Email: "kj@globex.example.com",
      Tags: ["Newsletter"],
      Active: true,
      Badge: { text: "A-0004" },
      Owner: LINUS,
    }),
    contact(5, "Margaret Hamilton", 3, { Title: "Lead engineer", Rating: 1 }),
    contact(6, "Edsger Dijkstra", 4, {
      Email: "ewd@umbrella.example.com",
      Notes: "Met at conference.\n\nWants a demo.",
    }),
    contact(7, "Barbara Liskov", undefined, { Email: "barbara@example.com", Tags: ["VIP"] }),
    { id: rec("contact", 8), createdTime: created(30), fields: {} }, // a blank row: "fields": {}
  ];
  const deals = [
    deal(1, "Acme renewal 2024", 1, {
      Amount: 120_000,
      Probability: 0.9,
      Stage: "Won",
      "Close date": "2024-03-31",
      Team: [ADA, GRACE],
      Contract: [files.contract],
      "Call length": 5400,
      Summary: "# Renewal\n- three years\n- **priority** support\n",
    }),
    deal(2, "Acme expansion", 1, {
      Amount: 45_000.5,
      Probability: 0.4,
      Stage: "Proposal",
      "Close date": "2024-06-30",
      Team: [ADA],
      Contract: [files.contract],
    }),
    deal(3, "Globex pilot", 2, { Amount: 8_000, Probability: 0.25, Stage: "Qualified", "Call length": 1800 }),
    deal(4, "Initech licences", 3, { Amount: 0, Probability: 0, Stage: "Lost", "Close date": "2023-12-15" }),
    deal(5, "Umbrella platform", 4, { Amount: 250_000, Probability: 0.1, Stage: "Lead", Team: [LINUS] }),
    deal(6, "Unassigned lead", undefined, { Stage: "Lead" }),
  ];
  const tasks = [
    task(1, "Send renewal contract", 1, {
      Done: true,
      Due: "2024-03-15",
      Assignee: ADA,
      Priority: 3,
      Files: [files.notes],
    }),
    task(2, "Schedule kickoff", 1, { Due: "2024-04-02", Assignee: GRACE, Priority: 2 }),
    task(3, "Prepare proposal", 2, {
      Due: "2024-05-20",
      Assignee: ADA,
      Notes: "Include volume discount.",
      Files: [files.leads, files.notes],
    }),
    task(4, "Pilot success criteria", 3, { Assignee: LINUS, Priority: 1 }),
    task(5, "Post-mortem", 4, { Done: true, Files: [files.leads] }),
    task(6, "Intro call", 5, { Due: "2024-07-01" }),
    task(7, "Research competitors", undefined, { Priority: 2 }),
    task(8, "Clean up CRM", undefined, {}),
  ];
  // Computed cells the sim does not evaluate (formula, rollup) get consistent values here.
  for (const c of companies) {
    const index = companies.indexOf(c) + 1;
    const total = deals
      .filter((d) => (d.fields.Company as string[] | undefined)?.[0] === rec("company", index))
      .reduce((sum, d) => sum + Number(d.fields.Amount ?? 0), 0);
    c.fields["Total deal value"] = total;
  }
  for (const c of contacts) {
    const companyId = (c.fields.Company as string[] | undefined)?.[0];
    const companyName = companies.find((co) => co.id === companyId)?.fields.Name;
    if (c.fields.Name) c.fields.Label = companyName ? `${c.fields.Name} (${companyName})` : String(c.fields.Name);
  }
  for (const d of deals)
    if (d.fields.Amount !== undefined) d.fields.Expected = Number(d.fields.Amount) * Number(d.fields.Probability ?? 0);
  deals[0]!.comments = [
    { id: stableId("com", "signed"), author: ADA, text: "Signed! 🎉", createdTime: "2024-03-30T10:00:00.000Z" },
    { author: GRACE, text: `Great work @[${ADA.id}]`, createdTime: "2024-03-30T11:00:00.000Z" },
    {
      id: stableId("com", "reply"),
      author: ADA,
      text: "Thanks!",
      createdTime: "2024-03-30T12:00:00.000Z",
      parentCommentId: stableId("com", "signed"),
    },
  ];
  deals[2]!.comments = [
    { author: LINUS, text: "Waiting for their security review.", createdTime: "2024-04-02T08:00:00.000Z" },
  ];

  return {
    id: stableId("app", "sample-crm"),
    name: "Sample CRM",
    permissionLevel: "create",
    tables: [
      {
        id: tbl("Companies"),
        name: "Companies",
        description: "Organisations we sell to",
        fields: companyFields(),
        records: companies,
      },
      { id: tbl("Contacts"), name: "Contacts", fields: contactFields(), records: contacts },
      { id: tbl("Deals"), name: "Deals", fields: dealFields(), records: deals },
      { id: tbl("Tasks"), name: "Tasks", fields: taskFields(), records: tasks },
    ],
  };
}

// --- internal ---

const tbl = (name: string) => stableId("tbl", name);
const fid = (table: string, name: string) => stableId("fld", `${table}.${name}`);
const rec = (kind: string, n: number) => stableId("rec", `${kind}-${n}`);
const created = (n: number) => new Date(Date.UTC(2024, 0, 1, 9, n)).toISOString();
const att = (filename: string, type: string, data: Uint8Array): SeedAttachment => ({ filename, type, data });

function field(
  table: string,
  name: string,
  type: string,
  options?: Record<string, unknown>,
  description?: string,
): FieldSchema {
  return { id: fid(table, name), name, type, ...(description ? { description } : {}), ...(options ? { options } : {}) };
}
const choices = (table: string, field: string, names: string[], colors: string[]) => ({
  choices: names.map((name, i) => ({
    id: stableId("sel", `${table}.${field}.${name}`),
    name,
    color: colors[i % colors.length],
  })),
});
const link = (_table: string, linked: string, inverse?: string) => ({
  linkedTableId: tbl(linked),
  isReversed: false,
  prefersSingleRecordLink: false,
  ...(inverse ? { inverseLinkFieldId: fid(linked, inverse) } : {}),
});
const DATE = { dateFormat: { name: "iso", format: "YYYY-MM-DD" } };
const DATETIME = { ...DATE, timeFormat: { name: "24hour", format: "HH:mm" }, timeZone: "utc" };
const MONEY = { precision: 2, symbol: "$" };
const INDUSTRIES = ["Software", "Retail", "Manufacturing", "Healthcare"];

function companyFields(): FieldSchema[] {
  const t = "Companies";
  return [
    field(t, "Name", "singleLineText"),
    field(t, "Website", "url"),
    field(
      t,
      "Industry",
      "singleSelect",
      choices(t, "Industry", INDUSTRIES, ["blueLight2", "greenLight2", "orangeLight2", "redLight2"]),
    ),
    field(t, "Employees", "number", { precision: 0 }),
    field(t, "Annual revenue", "currency", MONEY),
    field(t, "Founded", "date", DATE),
    field(t, "Notes", "multilineText"),
    field(t, "Logo", "multipleAttachments", { isReversed: false }),
    field(t, "Contacts", "multipleRecordLinks", link(t, "Contacts", "Company")),
    field(t, "Deals", "multipleRecordLinks", link(t, "Deals", "Company")),
    field(t, "Parent company", "multipleRecordLinks", { ...link(t, "Companies"), prefersSingleRecordLink: true }),
    field(t, "Contact count", "count", { isValid: true, recordLinkFieldId: fid(t, "Contacts") }),
    field(t, "Total deal value", "rollup", {
      isValid: true,
      recordLinkFieldId: fid(t, "Deals"),
      fieldIdInLinkedTable: fid("Deals", "Amount"),
      referencedFieldIds: [],
      result: { type: "currency", options: MONEY },
    }),
    field(t, "Account ID", "autoNumber"),
    field(t, "Created", "createdTime", { result: { type: "dateTime", options: DATETIME } }),
  ];
}

function contactFields(): FieldSchema[] {
  const t = "Contacts";
  return [
    field(t, "Name", "singleLineText", undefined, "Full name"),
    field(t, "Email", "email"),
    field(t, "Phone", "phoneNumber"),
    field(t, "Company", "multipleRecordLinks", link(t, "Companies", "Contacts")),
    field(t, "Title", "singleLineText"),
    field(
      t,
      "Tags",
      "multipleSelects",
      choices(t, "Tags", ["VIP", "Newsletter", "Partner"], ["purpleBright", "cyanLight1", "grayLight1"]),
    ),
    field(t, "Active", "checkbox", { icon: "check", color: "greenBright" }),
    field(t, "Rating", "rating", { icon: "star", max: 5, color: "yellowBright" }),
    field(t, "Badge", "barcode"),
    field(t, "Owner", "singleCollaborator", {}),
    field(t, "Photo", "multipleAttachments", { isReversed: false }),
    field(t, "Last contacted", "dateTime", DATETIME),
    field(t, "Notes", "multilineText"),
    field(t, "Company industry", "multipleLookupValues", {
      isValid: true,
      recordLinkFieldId: fid(t, "Company"),
      fieldIdInLinkedTable: fid("Companies", "Industry"),
      result: {
        type: "singleSelect",
        options: choices("Companies", "Industry", INDUSTRIES, [
          "blueLight2",
          "greenLight2",
          "orangeLight2",
          "redLight2",
        ]),
      },
    }),
    field(t, "Label", "formula", {
      formula: `{${fid(t, "Name")}} & " (" & {${fid(t, "Company")}} & ")"`,
      isValid: true,
      referencedFieldIds: [fid(t, "Name"), fid(t, "Company")],
      result: { type: "singleLineText" },
    }),
    field(t, "Created by", "createdBy"),
  ];
}

function dealFields(): FieldSchema[] {
  const t = "Deals";
  return [
    field(t, "Deal", "singleLineText"),
    field(t, "Company", "multipleRecordLinks", link(t, "Companies", "Deals")),
    field(t, "Amount", "currency", MONEY),
    field(t, "Probability", "percent", { precision: 0 }),
    field(
      t,
      "Stage",
      "singleSelect",
      choices(
        t,
        "Stage",
        ["Lead", "Qualified", "Proposal", "Won", "Lost"],
        ["grayLight2", "blueLight2", "yellowLight2", "greenBright", "redBright"],
      ),
    ),
    field(t, "Close date", "date", DATE),
    field(t, "Team", "multipleCollaborators", {}),
    field(t, "Contract", "multipleAttachments", { isReversed: false }),
    field(t, "Expected", "formula", {
      formula: `{${fid(t, "Amount")}} * {${fid(t, "Probability")}}`,
      isValid: true,
      referencedFieldIds: [fid(t, "Amount"), fid(t, "Probability")],
      result: { type: "currency", options: MONEY },
    }),
    field(t, "Call length", "duration", { durationFormat: "h:mm" }),
    field(t, "Summary", "richText"),
    field(t, "Tasks", "multipleRecordLinks", link(t, "Tasks", "Deal")),
    field(t, "Last modified", "lastModifiedTime", {
      isValid: true,
      referencedFieldIds: [],
      result: { type: "dateTime", options: DATETIME },
    }),
  ];
}

function taskFields(): FieldSchema[] {
  const t = "Tasks";
  return [
    field(t, "Task", "singleLineText"),
    field(t, "Deal", "multipleRecordLinks", link(t, "Deals", "Tasks")),
    field(t, "Done", "checkbox", { icon: "check", color: "greenBright" }),
    field(t, "Due", "date", DATE),
    field(t, "Assignee", "singleCollaborator", {}),
    field(t, "Priority", "rating", { icon: "flag", max: 3, color: "redBright" }),
    field(t, "Notes", "multilineText"),
    field(t, "Files", "multipleAttachments", { isReversed: false }),
    field(t, "Task ID", "autoNumber"),
  ];
}

function company(n: number, name: string, fields: Record<string, unknown>): SimRecordSeed {
  return { id: rec("company", n), createdTime: created(n), fields: { Name: name, ...fields, "Account ID": n } };
}

function contact(
  n: number,
  name: string,
  companyN: number | undefined,
  fields: Record<string, unknown>,
): SimRecordSeed {
  const company = companyN ? { Company: [rec("company", companyN)] } : {};
  return {
    id: rec("contact", n),
    createdTime: created(10 + n),
    fields: { Name: name, ...company, ...fields, "Created by": n % 2 ? ADA : GRACE },
  };
}

function deal(n: number, name: string, companyN: number | undefined, fields: Record<string, unknown>): SimRecordSeed {
  const company = companyN ? { Company: [rec("company", companyN)] } : {};
  return {
    id: rec("deal", n),
    createdTime: created(20 + n),
    fields: { Deal: name, ...company, ...fields, "Last modified": created(40 + n) },
  };
}

function task(n: number, name: string, dealN: number | undefined, fields: Record<string, unknown>): SimRecordSeed {
  const deal = dealN ? { Deal: [rec("deal", dealN)] } : {};
  return { id: rec("task", n), createdTime: created(30 + n), fields: { Task: name, ...deal, ...fields, "Task ID": n } };
}
