/**
 * `listJobs` with `dueBefore` judges a row nobody has scheduled yet (written by hand, no server
 * running) by its seed columns (SPEC §2), cron rows too, whose first match SQL cannot compute;
 * the same on both backends, and pages by cursor as any list does.
 */
import { expect, test } from "bun:test";
import type { CronJobRecord, JobFilter, Store } from "../../src/store/store.ts";
import { backends, describeOn } from "../support/backends.ts";
import { T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";

const MIN = 60_000;

/** Every item of every page of `filter`, `limit` a page, and how many pages it took. */
async function allPages(store: Store, filter: Omit<JobFilter, "limit" | "cursor">, limit: number) {
  const items: CronJobRecord[] = [];
  let pages = 0;
  for (let cursor: number | undefined; ; pages++) {
    const page = await store.listJobs({ ...filter, limit, cursor }, T0);
    items.push(...page.items);
    if (page.nextCursor === null) return { names: items.map((j) => j.name), pages: pages + 1 };
    expect(page.items).toHaveLength(limit);
    cursor = page.nextCursor;
  }
}

for (const backend of backends) {
  describeOn(backend, `listJobs dueBefore, rows nobody has scheduled yet (${backend.name})`, () => {
    test("a cron row is due at its first match after its creation (or run_at); one that cannot run is never due", async () => {
      const { store } = await backend.open();
      const created = T0 - 10 * MIN;
      await addJob(store, created, { name: "every-minute", cron: "* * * * *" }); // due at 11:50
      await addJob(store, created, { name: "new-year", cron: "0 0 1 1 *" }); // due months away
      await addJob(store, created, { name: "from-run-at", cron: "* * * * *", runAt: new Date(T0 + 60 * MIN), nextRunAt: null });
      await addJob(store, created, { name: "bad-cron", cron: "every tuesday" });
      await addJob(store, created, { name: "paused-cron", cron: "* * * * *", isActive: false });
      await addJob(store, T0, { name: "scheduled", runAt: new Date(T0 + MIN) });
      const once = await addJob(store, created, { name: "once-by-hand", runAt: new Date(T0 + 2 * MIN) });
      await store.updateJob(once.id, { nextRunAt: null }, created);
      const rows = (await store.listJobs({ limit: 20 }, T0)).items;
      expect(rows.filter((j) => j.nextRunAt === null).map((j) => j.name)).toEqual(["once-by-hand", "paused-cron", "bad-cron", "from-run-at", "new-year", "every-minute"]);

      const due = async (before: number) => (await store.listJobs({ limit: 20, dueBefore: new Date(before) }, T0)).items.map((j) => j.name);
      expect(await due(T0 - 11 * MIN)).toEqual([]);
      expect(await due(T0 - 10 * MIN)).toEqual(["every-minute"]);
      expect(await due(T0 + 5 * MIN)).toEqual(["once-by-hand", "scheduled", "every-minute"]);
      expect(await due(T0 + 60 * MIN)).toEqual(["once-by-hand", "scheduled", "from-run-at", "every-minute"]);
    });

    test("pages stay full and hold each due row once while rows not due lie between them", async () => {
      const { store } = await backend.open();
      const created = T0 - 10 * MIN;
      const expected: string[] = [];
      for (let i = 1; i <= 7; i++) {
        await addJob(store, created, { name: `due-${i}`, cron: "* * * * *" });
        expected.unshift(`due-${i}`);
        for (let j = 0; j < i % 3; j++) await addJob(store, created, { name: `later-${i}-${j}`, cron: "0 0 1 1 *" });
      }
      expect(await allPages(store, { dueBefore: new Date(T0) }, 3)).toEqual({ names: expected, pages: 3 });
      expect(await allPages(store, { dueBefore: new Date(T0) }, 7)).toEqual({ names: expected, pages: 1 });
    });
  });
}
