// `airbackup init [PATH]`: write the commented example config; never overwrite a file.

import { type FileHandle, open } from "node:fs/promises";
import { defineCommand } from "citty";
import { EXAMPLE_CONFIG } from "../config/example.ts";
import { AirbackupError } from "../errors.ts";
import { log } from "../log.ts";
import { commonArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "init", description: "Write a commented example config (default ./airbackup.yaml); never overwrites" },
  args: {
    path: { type: "positional", required: false, default: "airbackup.yaml", description: "Where to write the config" },
    ...commonArgs,
  },
  async run({ args }) {
    let handle: FileHandle;
    try {
      // "wx": fail if the file exists, so a config is never overwritten, even by a race.
      handle = await open(args.path, "wx", 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new AirbackupError("USAGE", `${args.path} already exists; not overwriting it`);
      throw new AirbackupError("IO", `cannot create ${args.path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      await handle.writeFile(EXAMPLE_CONFIG);
    } finally {
      await handle.close();
    }
    log.success(`wrote ${args.path}; edit it, then run \`airbackup backup -c ${args.path}\``);
  },
});
