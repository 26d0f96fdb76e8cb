import { api, dashboardApi, errorText, isUnauthorized, type JobView } from "../api.ts";
import { debounce, h } from "../dom.ts";
import { formatCount, formatDuration } from "../format.ts";
import { confirmAction } from "./dialog.ts";
import { openJobForm } from "./job-form.ts";
import { JOB_COLUMNS, JobRow, skeletonRows, type JobAction } from "./job-row.ts";
import { Pager } from "./pager.ts";
import { toast } from "./toast.ts";
import type { View, ViewContext } from "./view.ts";

const PAGE_SIZE = 50;
type StateFilter = "" | JobView["state"];
const STATES: { value: StateFilter; label: string }[] = [
  { value: "", label: "All" }, { value: "active", label: "Active" }, { value: "running", label: "Running" },
  { value: "paused", label: "Paused" }, { value: "dead", label: "Dead" }, { value: "finished", label: "Finished" },
];

/** The jobs: filters, a server-side page of the table, and the actions on each job. */
export class JobsView implements View {
  readonly el: HTMLElement;
  private readonly tbody = h("tbody", {}, skeletonRows(8, JOB_COLUMNS.length));
  private readonly pager = new Pager(PAGE_SIZE, () => this.ctx.kick());
  private readonly rows = new Map<number, JobRow>();
  private readonly busy = new Map<number, JobAction>();
  private readonly counts = new Map<StateFilter, HTMLElement>();
  private readonly userError = h("span", { class: "field-error inline", id: "user-filter-error" });
  private filters = { search: "", jobType: "", state: "" as StateFilter, user: "" };
  /** Pause all (SPEC §5.3.1): a switch, and a banner while every job is held. */
  private readonly pauseSwitch = h("button", { type: "button", class: "btn switch", role: "switch", "aria-checked": "false", "data-pause-all": "" }, "Pause all");
  private readonly pausedBanner = h("p", { class: "banner warning", role: "status", hidden: true },
    "All jobs are paused: no server starts any until you resume them. Jobs paused one by one stay paused after.");
  private pausedAll: boolean | undefined;
  private loaded = false;

  constructor(private readonly ctx: ViewContext) {
    this.filters.state = (ctx.params.get("state") ?? "") as StateFilter;
    const changed = () => { this.pager.reset(); this.ctx.kick(); };
    const search = h("input", { type: "search", placeholder: "Search by name", "aria-label": "Search jobs by name", value: this.filters.search });
    search.addEventListener("input", debounce(() => { this.filters.search = search.value.trim(); changed(); }, 250));
    const type = h("select", { "aria-label": "Job type" }, h("option", { value: "" }, "All types"),
      ctx.jobTypes.map((t) => h("option", { value: t.type }, t.type)));
    type.addEventListener("change", () => { this.filters.jobType = type.value; changed(); });
    const user = h("input", { type: "text", inputmode: "numeric", placeholder: "User id or none", "aria-label": "User", "aria-describedby": this.userError.id, class: "narrow" });
    user.addEventListener("input", debounce(() => { this.filters.user = user.value.trim(); changed(); }, 300));
    const states = h("div", { class: "segmented", role: "group", "aria-label": "State" }, STATES.map(({ value, label }) => {
      const count = h("span", { class: "count" }, "");
      this.counts.set(value, count);
      const button = h("button", { type: "button", "aria-pressed": String(this.filters.state === value), "data-state": value }, label, count);
      button.addEventListener("click", () => {
        this.filters.state = value;
        for (const b of Array.from(states.querySelectorAll("button"))) b.setAttribute("aria-pressed", String(b === button));
        changed();
      });
      return button;
    }));
    const create = h("button", { type: "button", class: "btn primary", onclick: () => this.openForm() }, "New job");
    this.pauseSwitch.addEventListener("click", () => void this.togglePauseAll());
    this.el = h("section", { class: "jobs-view", "aria-labelledby": "jobs-title" },
      h("div", { class: "view-head" }, h("h1", { id: "jobs-title" }, "Jobs"), h("div", { class: "view-actions" }, this.pauseSwitch, create)),
      this.pausedBanner,
      h("div", { class: "toolbar" }, states, h("div", { class: "filters" }, search, type, h("span", { class: "filter-user" }, user, this.userError))),
      h("div", { class: "card table-card" },
        h("table", { class: "table jobs-table" },
          h("caption", { class: "sr-only" }, "Jobs, newest first"),
          h("thead", {}, h("tr", {}, JOB_COLUMNS.map((c) => h("th", { scope: "col", class: `col-${c.toLowerCase().replace(/\s+/g, "-")}` }, c)))),
          this.tbody),
        this.pager.el));
  }

  async refresh(): Promise<void> {
    const user = this.userFilter();
    const input = {
      limit: PAGE_SIZE,
      cursor: this.pager.cursor,
      ...(this.filters.search ? { search: this.filters.search } : {}),
      ...(this.filters.jobType ? { jobType: this.filters.jobType } : {}),
      ...(this.filters.state ? { state: this.filters.state } : {}),
      ...(user !== undefined ? { userId: user } : {}),
    };
    // The page is drawn as soon as it arrives; the counts by state follow.
    const summary = dashboardApi.summary.query().then((stats) => {
      const count: Record<StateFilter, number> = { "": stats.jobs, ...stats.states };
      for (const [state, el] of this.counts) el.textContent = formatCount(count[state]);
    });
    const paused = api.jobs.pausedAll.query().then(({ paused }) => this.showPausedAll(paused));
    const page = await api.jobs.list.query(input);
    this.render(page.items, Date.now());
    this.pager.update(page.items.length, page.nextCursor);
    if (!this.loaded) {
      this.loaded = true;
      // User Timing for the benchmark: the first page is on screen in this frame.
      requestAnimationFrame(() => performance.mark("cronjobs:jobs-first-page"));
    }
    await Promise.all([summary, paused]);
  }

  private showPausedAll(paused: boolean): void {
    this.pausedAll = paused;
    this.pauseSwitch.setAttribute("aria-checked", String(paused));
    this.pauseSwitch.textContent = paused ? "Resume all" : "Pause all";
    this.pauseSwitch.classList.toggle("on", paused);
    this.pausedBanner.hidden = !paused;
  }

  /** Pause all or resume all, confirmed first: it holds every job on every server. */
  private async togglePauseAll(): Promise<void> {
    const pausing = !this.pausedAll;
    const confirmed = pausing
      ? await confirmAction("Pause all jobs", "Pause every job? No server starts any job until you resume them (runs already going finish). It holds across restarts.", "Pause all", "Keep running")
      : await confirmAction("Resume all jobs", "Resume every job? Due jobs start at once; jobs paused one by one stay paused.", "Resume all", "Keep paused");
    if (!confirmed) return;
    this.pauseSwitch.disabled = true;
    try {
      const { paused } = pausing ? await api.jobs.pauseAll.mutate() : await api.jobs.resumeAll.mutate();
      this.showPausedAll(paused);
      toast(paused ? "All jobs paused." : "All jobs resumed.");
    } catch (err) {
      if (isUnauthorized(err)) return this.ctx.unauthorized();
      toast(`Could not ${pausing ? "pause" : "resume"} all jobs: ${errorText(err)}`, "error");
    } finally {
      this.pauseSwitch.disabled = false;
      this.ctx.kick();
    }
  }

  private userFilter(): number | null | undefined {
    const value = this.filters.user.toLowerCase();
    const valid = value === "" || value === "none" || /^\d+$/.test(value);
    this.userError.textContent = valid ? "" : "a user id, or none";
    if (!valid || value === "") return undefined;
    return value === "none" ? null : Number(value);
  }

  private render(items: JobView[], now: number): void {
    if (items.length === 0) {
      this.rows.clear();
      const filtered = Object.values(this.filters).some(Boolean);
      this.tbody.replaceChildren(h("tr", { class: "empty" }, h("td", { colspan: JOB_COLUMNS.length },
        filtered ? "No jobs match these filters." : "No jobs yet. Create one here, or let your application schedule them.")));
      return;
    }
    const seen = new Set<number>();
    const trs = items.map((job) => {
      seen.add(job.id);
      let row = this.rows.get(job.id);
      if (!row) this.rows.set(job.id, (row = new JobRow(job, (j, action) => void this.act(j, action))));
      row.update(job, now, this.busy.get(job.id));
      return row.tr;
    });
    for (const id of this.rows.keys()) if (!seen.has(id)) this.rows.delete(id);
    const current = Array.from(this.tbody.children);
    if (current.length !== trs.length || trs.some((tr, i) => current[i] !== tr)) this.tbody.replaceChildren(...trs);
  }

  private async act(job: JobView, action: JobAction): Promise<void> {
    if (action === "edit") return this.openForm(job);
    if (action === "delete" && !(await confirmAction("Delete job", `Delete “${job.name}” (#${job.id})? Its run history stays; the job itself cannot be brought back.`, "Delete job"))) return;
    if (action === "cancel" && !(await confirmCancel(job))) return;
    this.busy.set(job.id, action);
    this.rows.get(job.id)?.update(job, Date.now(), action);
    try {
      toast(await this.perform(job, action));
    } catch (err) {
      if (isUnauthorized(err)) return this.ctx.unauthorized();
      toast(`Could not ${action === "run" ? "run" : action} “${job.name}”: ${errorText(err)}`, "error");
    } finally {
      this.busy.delete(job.id);
      this.ctx.kick();
    }
  }

  private async perform(job: JobView, action: Exclude<JobAction, "edit">): Promise<string> {
    const id = { id: job.id };
    switch (action) {
      case "run": {
        const run = await api.jobs.runNow.mutate(id);
        const took = formatDuration(run.durationMs);
        return run.status === "succeeded" ? `Ran “${job.name}”: succeeded in ${took}.` : `Ran “${job.name}”: ${run.status.replace("_", " ")} after ${took}${run.error ? ` — ${run.error}` : ""}.`;
      }
      case "pause": await api.jobs.pause.mutate(id); return `Paused “${job.name}”.`;
      case "resume": await api.jobs.resume.mutate(id); return `Resumed “${job.name}”.`;
      case "retry": await api.jobs.retry.mutate(id); return `“${job.name}” will run again now.`;
      case "cancel": await api.jobs.cancel.mutate(id); return `Cancelling “${job.name}”: its run stops within a second.`;
      case "delete": await api.jobs.delete.mutate(id); return `Deleted “${job.name}”.`;
    }
  }

  private openForm(job?: JobView): void {
    openJobForm({
      job, jobTypes: this.ctx.jobTypes, unauthorized: () => this.ctx.unauthorized(),
      onSaved: (saved) => { toast(job ? `Saved “${saved.name}”.` : `Created “${saved.name}” (#${saved.id}).`); this.ctx.kick(); },
    });
  }
}

/** Asks before stopping a running run, saying what becomes of the job. */
function confirmCancel(job: JobView): Promise<boolean> {
  const recurring = job.intervalMinutes !== null || job.cron !== null;
  const then = recurring ? "The job then waits for its next slot." : "The job is then paused; resume it to run it again.";
  return confirmAction("Cancel run", `Stop the run of “${job.name}” (#${job.id}) now? It is aborted and recorded as cancelled. ${then}`, "Cancel run", "Keep running");
}
