// Comments back (archives made with `comments: true`): onto the new records, oldest first, each text
// prefixed with its original author and date, since the API writes every comment as the token's user and
// stamps it now. A reply stays a reply when its parent came back. Records are worked on several at once
// (pipeline.ts); one record's comments go one after another, in order. A comment is journaled `pending`
// before it is sent; after a lost answer (or on resume) the record's comments are read back and the text
// looked for before anything is sent again.
import { listComments } from "../airtable/read.ts";
import { AmbiguousWriteError } from "../airtable/recoverable-errors.ts";
import { createComment } from "../airtable/write.ts";
import type { ArchivedComments } from "../archive/contents.ts";
import { withReadBack } from "../retry.ts";
import { throwIfInterrupted } from "../shutdown.ts";
import type { RestoreContext, TableRun } from "./context.ts";
import { createPipeline, inFlightFor } from "./pipeline.ts";

type Comment = ArchivedComments["comments"][number];

export async function restoreComments(ctx: RestoreContext, runs: TableRun[]): Promise<void> {
  for (const run of runs) {
    const pipeline = createPipeline(() => inFlightFor(ctx.client.latencyMs));
    let announced = false;
    for await (const line of ctx.source.comments(run.oldId)) {
      const recordId = ctx.journal.state.records.get(run.oldId)?.get(line.record);
      if (!recordId) continue; // the record was not restored (reported already)
      const oldestFirst = [...line.comments].sort((a, b) => Date.parse(a.createdTime) - Date.parse(b.createdTime));
      const notYetRestored = oldestFirst.filter(
        (c) => !ctx.journal.state.comments.has(commentKey(run, line.record, c)),
      );
      if (notYetRestored.length === 0) continue;
      if (!announced) ctx.onEvent({ type: "step", message: `${run.name}: restoring comments` });
      announced = true;
      await pipeline.add(async () => {
        for (const comment of notYetRestored) await restoreComment(ctx, run, line.record, recordId, comment);
      });
    }
    await pipeline.drain();
  }
}

/** `[Ada Lovelace, 2024-03-30 10:00 UTC] Signed!`: who wrote it and when, before the original text. */
export function commentText(comment: Comment): string {
  const author = comment.author?.name || comment.author?.email || comment.author?.id || "unknown author";
  const ms = Date.parse(comment.createdTime);
  const when = Number.isNaN(ms)
    ? comment.createdTime
    : `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `[${author}, ${when}] ${comment.text}`;
}

// --- internal ---

function commentKey(run: TableRun, record: string, comment: Comment): string {
  return `${run.oldId}/${record}/${comment.id}`;
}

async function restoreComment(
  ctx: RestoreContext,
  run: TableRun,
  oldRecord: string,
  recordId: string,
  comment: Comment,
): Promise<void> {
  throwIfInterrupted(ctx.signal);
  const key = commentKey(run, oldRecord, comment);
  const text = commentText(comment);
  const parentId = (comment as { parentCommentId?: unknown }).parentCommentId;
  const parent =
    typeof parentId === "string" ? ctx.journal.state.comments.get(`${run.oldId}/${oldRecord}/${parentId}`) : undefined;
  const readBack = async () => {
    const there = await listComments(ctx.client, ctx.baseId, run.newId, recordId, { signal: ctx.signal });
    const found = there.find((c) => c.text === text);
    return found ? { value: found.id } : undefined;
  };
  const landed = ctx.journal.state.commentPending.has(key) ? await readBack() : undefined;
  const id =
    landed?.value ??
    (await withReadBack(
      async () => {
        ctx.journal.append({ t: "comment-pending", key });
        const created = await createComment(
          ctx.client,
          ctx.baseId,
          run.newId,
          recordId,
          { text, ...(parent ? { parentCommentId: parent } : {}) },
          { signal: ctx.signal },
        );
        return created.id;
      },
      readBack,
      { isLost: (error) => error instanceof AmbiguousWriteError },
    ));
  ctx.journal.append({ t: "comment", key, id });
}
