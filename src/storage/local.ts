// The output directory as a Storage: a write goes to a temporary file beside the target (mode 0600),
// is fsynced, then renamed over the name, and the directory fsynced: readers see no file or the
// whole one. A failed or aborted write removes its temporary file.
import { randomBytes } from "node:crypto";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { syncDirectory } from "../archive/file-sink.ts";
import { openRandomAccessFile, type RandomAccessFile } from "../archive/random-access-file.ts";
import { AirbackupError } from "../errors.ts";
import { checkStorageName, type Storage, type StoredObject } from "./storage.ts";

export class LocalStorage implements Storage {
  readonly kind = "local" as const;
  readonly label: string;

  constructor(readonly dir: string) {
    this.label = dir;
  }

  async *list(): AsyncIterable<StoredObject> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw ioError(`cannot list ${this.dir}`, error);
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const found = await this.stat(entry.name);
      if (found) yield found;
    }
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    checkStorageName(name);
    try {
      const s = await stat(join(this.dir, name));
      return s.isFile() ? { name, size: s.size, modified: s.mtime } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw ioError(`cannot stat ${join(this.dir, name)}`, error);
    }
  }

  open(name: string): Promise<RandomAccessFile> {
    checkStorageName(name);
    return openRandomAccessFile(join(this.dir, name));
  }

  async read(name: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    checkStorageName(name);
    const path = join(this.dir, name);
    if (!(await this.stat(name))) throw new AirbackupError("IO", `${path}: no such file`);
    const stream = Bun.file(path).stream();
    if (!signal) return stream;
    return stream.pipeThrough(abortable(signal));
  }

  async write(
    name: string,
    body: ReadableStream<Uint8Array> | Blob,
    options: { size?: number; signal?: AbortSignal } = {},
  ): Promise<StoredObject> {
    checkStorageName(name);
    const target = join(this.dir, name);
    // Ends in .partial, so a leftover of a killed process is what prune already cleans up.
    const temp = join(this.dir, `${name}.${process.pid}-${randomBytes(4).toString("hex")}.partial`);
    let handle: import("node:fs/promises").FileHandle | undefined;
    const reader = (body instanceof Blob ? body.stream() : body).getReader();
    try {
      handle = await open(temp, "wx", 0o600);
      await handle.chmod(0o600);
      let written = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const { done, value } = await reader.read();
        if (done) break;
        for (let at = 0; at < value.length; ) at += (await handle.write(value, at, value.length - at)).bytesWritten;
        written += value.length;
      }
      options.signal?.throwIfAborted();
      if (options.size !== undefined && written !== options.size)
        throw new AirbackupError("IO", `${target}: wrote ${written} bytes, expected ${options.size}`);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, target);
      await syncDirectory(this.dir);
      const s = await stat(target);
      return { name, size: s.size, modified: s.mtime };
    } catch (error) {
      await reader.cancel().catch(() => {});
      await handle?.close().catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
      if (error instanceof AirbackupError) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      throw ioError(`cannot write ${target}`, error);
    }
  }

  async delete(name: string): Promise<void> {
    checkStorageName(name);
    try {
      await rm(join(this.dir, name), { force: true });
    } catch (error) {
      throw ioError(`cannot delete ${join(this.dir, name)}`, error);
    }
  }
}

// --- internal ---

function abortable(signal: AbortSignal): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      if (signal.aborted) controller.error(signal.reason);
      else controller.enqueue(chunk);
    },
  });
}

function ioError(message: string, cause: unknown): AirbackupError {
  return new AirbackupError("IO", `${message}: ${(cause as Error).message ?? String(cause)}`, { cause });
}
