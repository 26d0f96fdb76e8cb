/**
 * Your own `app` binary: the whole CLI (`serve`, `cron-runner`, `jobs`, …) with one job type of
 * yours beside the built-ins. Build it with
 *
 *   bun build --compile examples/custom-jobs/app.ts --outfile my-app
 *
 * then `./my-app serve`, and `./my-app jobs add purge-uploads --type purge_old_files --every 60
 * --payload '{"dir":"/srv/uploads/tmp","maxAgeDays":7}'`.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { defineJob, main, z } from "cronjobs/server";

const purgeOldFiles = defineJob({
  type: "purge_old_files",
  description: "Deletes the files of a folder older than a number of days.",
  payloadSchema: z.strictObject({
    dir: z.string().min(1),
    maxAgeDays: z.number().positive(),
  }),
  async run({ payload, clock, signal, log }) {
    const cutoff = clock.now() - payload.maxAgeDays * 86_400_000;
    let deleted = 0;
    for (const entry of await fs.readdir(payload.dir, { withFileTypes: true })) {
      signal.throwIfAborted(); // timeout, cancel or shutdown: stop between files
      if (!entry.isFile()) continue;
      const file = path.join(payload.dir, entry.name);
      const { mtimeMs } = await fs.stat(file);
      if (mtimeMs >= cutoff) continue;
      // Idempotent: a file already gone (a second run, another process) is not an error.
      await fs.rm(file, { force: true });
      deleted++;
    }
    log(`deleted ${deleted} file(s) older than ${payload.maxAgeDays} day(s) from ${payload.dir}`);
  },
});

await main({ jobs: [purgeOldFiles] });
