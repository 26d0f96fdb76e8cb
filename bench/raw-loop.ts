import type { Database } from "bun:sqlite";

/**
 * The baseline the runner is compared with: a bare bun:sqlite loop that claims due rows in
 * batches of 500 and deletes them, one transaction per batch; answers how many it drained.
 */
export function rawDrain(db: Database): number {
  const claim = db.prepare<{ id: number }, [string, number, number]>(
    `UPDATE cron_jobs SET locked_by = ?, locked_until = ?, attempts = attempts + 1 WHERE id IN (
       SELECT id FROM cron_jobs WHERE is_active = 1 AND next_run_at <= ?3 AND (locked_until IS NULL OR locked_until <= ?3)
       ORDER BY next_run_at LIMIT 500) RETURNING id`);
  const del = db.prepare<never, [number]>("DELETE FROM cron_jobs WHERE id = ?");
  let total = 0;
  for (;;) {
    const now = Date.now();
    const n = db.transaction(() => {
      const ids = claim.all("raw", now + 60_000, now);
      for (const { id } of ids) del.run(id);
      return ids.length;
    }).immediate();
    if (n === 0) return total;
    total += n;
  }
}
