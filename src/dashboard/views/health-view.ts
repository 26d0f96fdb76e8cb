import { dashboardApi, type HealthView as Health } from "../api.ts";
import { session } from "../session.ts";
import { h, timeTitle } from "../dom.ts";
import { countOf, formatCount, formatDuration, relativeTime } from "../format.ts";
import { toast } from "./toast.ts";
import type { View, ViewContext } from "./view.ts";

type Check = Health["checks"][number];

const SOURCE_LABEL: Record<Check["name"], { title: string; what: string }> = {
  cron_runner: { title: "Cron runner", what: "app cron-runner, called by crontab every minute" },
  tests: { title: "Test suite", what: "app tests-cronjob-runner and its status page" },
  overdue_jobs: { title: "Overdue jobs", what: "active jobs past due by more than the grace period" },
  dead_jobs: { title: "Dead jobs", what: "jobs given up on: one-time jobs out of attempts, and jobs stopped because they cannot run (unknown type, bad schedule or payload, crash loop); app jobs retry re-activates one" },
  failing_jobs: { title: "Failing jobs", what: "recurring jobs whose last runs all failed or timed out" },
};

/** "45 s", "7 min", "2 h", "2 h 5 min": for ages and limits. */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60 || (minutes < 120 && minutes % 60 !== 0)) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
}

function checkCard(check: Check): HTMLElement {
  const label = SOURCE_LABEL[check.name];
  const figures = check.ageSeconds === null ? (check.maxAgeSeconds > 0 ? `limit ${age(check.maxAgeSeconds)}` : "")
    : check.maxAgeSeconds > 0 ? `age ${age(check.ageSeconds)} · limit ${age(check.maxAgeSeconds)}` : `for ${age(check.ageSeconds)}`;
  return h("article", { class: `card check ${check.status}`, "data-source": check.name },
    h("div", { class: "check-head" }, h("h3", {}, label.title), h("span", { class: `badge ${check.status}` }, check.status)),
    h("p", { class: "muted small" }, label.what),
    figures ? h("p", { class: "check-figures" }, figures) : null,
    h("p", { class: "check-detail" }, check.detail));
}

/** What `/metrics` counts, in sentences. */
function metricsInWords(health: Health): HTMLElement[] {
  const s = health.stats;
  const r = health.runner;
  const finished = r.runs.succeeded + r.runs.failed + r.runs.timed_out;
  const item = (term: string, text: string, title?: string) => [h("dt", {}, term), h("dd", title ? { title } : {}, text)];
  return [
    ...item("Database", health.database === "ok" ? `reachable (${health.backend})` : `unreachable: ${health.database}`),
    ...(s ? [
      ...item("Due now", `${countOf(s.due, "job")} due and not yet claimed`),
      ...item("Jobs", `${formatCount(s.jobs)} in all: ${formatCount(s.states.active)} active, ${formatCount(s.states.running)} running, ${formatCount(s.states.paused)} paused, ${formatCount(s.states.dead)} dead, ${formatCount(s.states.finished)} finished`),
    ] : []),
    ...item("Runs", finished === 0 ? "this server has finished no run since it started"
      : `this server has finished ${countOf(finished, "run")} since it started: ${formatCount(r.runs.succeeded)} succeeded, ${formatCount(r.runs.failed)} failed, ${formatCount(r.runs.timed_out)} timed out`),
    ...item("Ticks", r.lastTickAt === null ? "no tick yet"
      : `${formatCount(r.ticks)} so far; the last ended ${relativeTime(r.lastTickAt, health.now)} and took ${formatDuration(r.lastTickSeconds * 1000)} (${formatDuration(r.tickSecondsSum * 1000)} in all)`,
      r.lastTickAt === null ? undefined : timeTitle(r.lastTickAt)),
    ...item("Version", health.version),
  ];
}

/** The watchdog's sources, fresh or stale, and the figures of `/metrics`. */
export class HealthViewPage implements View {
  readonly el: HTMLElement;
  private readonly banner = h("div", { class: "banner skeleton" }, h("span", { class: "sk" }));
  private readonly checks = h("div", { class: "checks" }, Array.from({ length: 5 }, () => h("article", { class: "card check skeleton" }, h("span", { class: "sk" }))));
  private readonly metrics = h("dl", { class: "facts" });
  private readonly testsLink = h("button", { type: "button", class: "btn", hidden: true, onclick: () => void this.openTestsPage() }, "Open the tests status page ↗");
  private key = "";

  constructor(private readonly ctx: ViewContext) {
    this.el = h("section", { class: "health-view", "aria-labelledby": "health-title" },
      h("div", { class: "view-head" }, h("h1", { id: "health-title" }, "Health"), this.testsLink),
      this.banner,
      h("h2", { class: "section-title" }, "Freshness"),
      this.checks,
      h("section", { class: "card", "aria-labelledby": "metrics-title" },
        h("div", { class: "card-head" }, h("h2", { id: "metrics-title" }, "Figures"), h("span", { class: "muted small" }, "the same as /metrics")),
        this.metrics));
  }

  async refresh(): Promise<void> {
    const health = await dashboardApi.health.query();
    this.testsLink.hidden = !health.testsPage;
    const key = JSON.stringify({ ...health, now: Math.floor(health.now / 5000) });
    if (key === this.key) return;
    this.key = key;
    const stale = health.checks.filter((c) => c.status === "stale");
    const unknown = health.checks.filter((c) => c.status === "unknown");
    const watchdog = health.watchdogCheckedAt ? `The watchdog (app notify-stale) last checked ${relativeTime(Date.parse(health.watchdogCheckedAt), health.now)}.`
      : "The watchdog (app notify-stale) has not run with this FRESHNESS_DIR yet.";
    this.banner.className = `banner ${health.checksError || stale.length ? "bad" : unknown.length ? "unknown" : "good"}`;
    this.banner.replaceChildren(
      h("strong", {}, health.checksError ? "The freshness sources could not be read"
        : stale.length ? `${countOf(stale.length, "source")} stale`
        : unknown.length ? `${countOf(unknown.length, "source")} not reported yet (unknown), the rest fresh` : "Everything is fresh"),
      h("span", {}, health.checksError ?? `${watchdog} Limits shown are the watchdog's defaults.`));
    this.checks.replaceChildren(...health.checks.map(checkCard));
    this.metrics.replaceChildren(...metricsInWords(health));
  }

  private async openTestsPage(): Promise<void> {
    // A new tab cannot send the token: the server first sets a cookie only /tests-page gets,
    // then the page loads from its own route, under its own CSP, and reloads itself as from file://.
    const opened = window.open("", "_blank");
    try {
      const response = await fetch("/tests-page/session", { method: "POST", headers: { authorization: `Bearer ${session.token ?? ""}` } });
      if (response.status === 401) {
        opened?.close();
        return this.ctx.unauthorized();
      }
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      if (opened) {
        opened.opener = null;
        opened.location.href = "/tests-page";
      } else {
        window.location.assign("/tests-page");
      }
    } catch (err) {
      opened?.close();
      toast(`Could not open the tests page: ${err instanceof Error ? err.message : String(err)}`, "error");
    }
  }
}
