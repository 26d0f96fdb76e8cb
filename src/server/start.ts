import path from "node:path";
import type { Config } from "../config.ts";
import type { CronJob } from "../jobs/cron-job.ts";
import { AppError, errorMessage } from "../errors.ts";
import { TickTimer } from "../runner/tick-timer.ts";
import { createRuntime, warmUp, type Runtime } from "../runtime.ts";
import { resolveSecrets, secretsSource, type Secrets } from "../secrets.ts";
import { VERSION } from "../version.ts";
import { buildApp } from "./app.ts";

/**
 * `app serve`: opens the database, listens, ticks on its own timer, and on SIGTERM/SIGINT
 * stops claiming, lets running jobs finish within the grace period, then exits 0.
 */
export async function startServer(config: Config, { graceMs, jobs = [] }: { graceMs: number; jobs?: Iterable<CronJob<any>> }): Promise<void> {
  const secrets = resolveSecrets(config, { generate: true });
  const runtime = await createRuntime(config, { jobs });
  await serveRuntime(runtime, config, { secrets, graceMs });
}

/**
 * Serves a built runtime until SIGTERM/SIGINT, then shuts it down (SPEC §5.5). The fault
 * suite serves a runtime with its own job types through this same path.
 */
export async function serveRuntime(runtime: Runtime, config: Config, { secrets, graceMs }: { secrets: Secrets; graceMs: number }): Promise<void> {
  // The timer listens to the runtime's change feed: changes here, and (already subscribed when
  // the runtime was built) changes through the other instances on the database.
  const timer = new TickTimer(runtime);
  const app = buildApp({ ...runtime, secrets, freshnessDir: config.freshnessDir });
  try {
    // Elysia asks for SO_REUSEPORT: a second server on the same port would then start too and
    // take half of the connections, with its own database and tokens. A taken port is an error.
    app.listen({ hostname: config.host, port: config.port, reusePort: false });
  } catch (err) {
    await runtime.close();
    if (err instanceof AppError) throw err;
    if ((err as { code?: string }).code === "EADDRINUSE") throw new AppError("UNAVAILABLE", `port ${config.port} is in use (on ${config.host}): is another server running?`, { cause: err });
    throw new AppError("UNAVAILABLE", `cannot listen on ${config.host}:${config.port}: ${errorMessage(err)}`, { cause: err });
  }
  // Before the first tick, once the port is ours (a taken port fails at once, warm-up or not).
  // Only a speed-up: a server that cannot warm up serves all the same.
  const warming = performance.now();
  try {
    const warmed = await warmUp(runtime.runner.options);
    runtime.logger.info("warmed up the run path", { jobs: warmed, ms: Math.round(performance.now() - warming) });
  } catch (err) {
    runtime.logger.warn("cannot warm up the run path", { error: errorMessage(err) });
  }
  const port = app.server?.port ?? config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  runtime.logger.info("listening", {
    url, dashboard: `${config.port === 0 ? url : config.appUrl}/`, database: config.backend === "sqlite" && config.databaseUrl !== ":memory:" ? path.resolve(config.databaseUrl) : redactedUrl(config.databaseUrl),
    secrets: secretsSource(config), version: VERSION, backend: config.backend,
  });
  timer.start();

  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      runtime.logger.info("shutting down", { signal, graceMs });
      timer.stop();
      // Stop claiming first: the HTTP server waits for requests in flight, and a tick in flight
      // through POST /api/cron/run would otherwise go on claiming until its budget is spent.
      const drained = runtime.runner.shutdown(graceMs);
      await app.stop();
      await drained;
      await runtime.close();
      runtime.logger.info("stopped");
      resolve();
    };
    const onTerm = () => void stop("SIGTERM");
    const onInt = () => void stop("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  });
  // A job that ignored its abort may still hold timers, and its lease was given back: it must not
  // go on running in a process that lingers, where a second copy could start beside it.
  process.exit(0);
}

/** A postgres:// URL without its password, for the log. */
function redactedUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, "$1:***@");
}
