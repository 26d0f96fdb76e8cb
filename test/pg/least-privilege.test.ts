/**
 * A server's role on a migrated database needs no CREATE (README, "PostgreSQL and several
 * instances"): rows, sequences and the migration journal's read are enough to serve.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { PgStore } from "../../src/store/pg-store.ts";
import { postgresAvailable } from "../support/backends.ts";
import { onCleanup } from "../support/cleanup.ts";
import { T0 } from "../support/db.ts";
import { addJob } from "../support/jobs.ts";
import { freshPgStore, PG_ADMIN_URL, pgClient } from "../support/pg.ts";
import { testRuntime } from "../support/runtime.ts";

describe.skipIf(!postgresAvailable)("PostgreSQL: a role without CREATE", () => {
  test("once migrated, a role with rights on the rows and a read of the migration journal opens the store and runs jobs", async () => {
    const role = `cronjobs_test_dml_${randomBytes(4).toString("hex")}`;
    // Registered first, so it runs after the database is dropped (cleanups run last first).
    onCleanup(async () => { await pgClient(PG_ADMIN_URL, 1).unsafe(`DROP ROLE IF EXISTS "${role}"`); });
    const { url, name } = await freshPgStore();
    const owner = pgClient(url, 1);
    await owner.unsafe(`CREATE ROLE "${role}" LOGIN`);
    await owner.unsafe(`REVOKE CREATE ON DATABASE "${name}" FROM PUBLIC`);
    await owner.unsafe(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${role}"`);
    await owner.unsafe(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "${role}"`);
    await owner.unsafe(`GRANT USAGE ON SCHEMA drizzle TO "${role}"`);
    await owner.unsafe(`GRANT SELECT ON drizzle.__drizzle_migrations TO "${role}"`);
    const as = new URL(url);
    as.username = role;

    const store = await PgStore.open(as.toString());
    onCleanup(() => store.close());
    const job = await addJob(store, T0, { name: "as-the-app-role", runAt: new Date(T0 - 1_000) });
    expect(await testRuntime(store).runner.runDueJobs()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(await store.getJob(job.id)).toBeUndefined();
  });
});
