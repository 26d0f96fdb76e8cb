import type { SQL } from "bun";

/** Channel on which every instance on one database hears that jobs changed. */
export const CHANGES_CHANNEL = "cronjobs_changed";

/**
 * Answers the function that tells every instance listening on the database (this one included)
 * that jobs changed. Bursts are coalesced (at most one notice per 10 ms): PostgreSQL serializes
 * the commits of notifying transactions across the whole server, so a thousand jobs created in
 * a loop send a few notices, not a thousand.
 */
export function changeAnnouncer(client: SQL, instance: string): () => void {
  // A lost notice only delays the job to the next minute tick: never fail the change for it.
  return coalesce(() => void client.notify(CHANGES_CHANNEL, instance).catch(() => {}), 10);
}

/**
 * Calls `onChange` on each notice from another instance (or a trigger), and after each reconnect of the listening connection
 * (notices sent while it was down are lost). Bursts are coalesced: at most one call per 10 ms,
 * so a thousand changes re-arm a timer a few times, not a thousand. Resolves once listening.
 */
export async function listenForChanges(client: SQL, onChange: () => void, instance: string): Promise<() => Promise<void>> {
  const changed = coalesce(onChange, 10);
  let first = true;
  // This instance's own notices come back too: it already told its own listeners.
  const subscription = await client.listen(CHANGES_CHANNEL, (payload: string) => { if (payload !== instance) changed(); }, () => {
    if (!first) changed();
    first = false;
  });
  return () => subscription.unlisten().catch(() => {});
}

/** Calls `fn` at once, then at most once per `ms` while calls keep coming (the last call is never dropped). */
function coalesce(fn: () => void, ms: number): () => void {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    const wait = last + ms - performance.now();
    if (wait <= 0) {
      last = performance.now();
      fn();
    } else {
      timer ??= setTimeout(() => {
        timer = undefined;
        last = performance.now();
        fn();
      }, wait);
    }
  };
}
