import { api, dashboardApi, type RunView } from "../api.ts";
import { debounce, h, setText, setTime } from "../dom.ts";
import { formatDuration } from "../format.ts";
import { skeletonRows } from "./job-row.ts";
import { JobChanges } from "./job-changes.ts";
import { Pager } from "./pager.ts";
import { RunsChart } from "./runs-chart.ts";
import { renderStrips } from "./runs-strips.ts";
import type { View, ViewContext } from "./view.ts";

const PAGE_SIZE = 50;
const COLUMNS = ["Finished", "Job", "Type", "Status", "Duration", "Attempt", "Error", "Output"] as const;
const STATUSES = [
  ["", "All statuses"], ["succeeded", "Succeeded"], ["failed", "Failed"], ["timed_out", "Timed out"], ["cancelled", "Cancelled"], ["skipped", "Skipped"],
] as const;
type Status = (typeof STATUSES)[number][0];

/** One run's rows: its line, and the line below it that shows its output when opened. */
interface RunRow {
  tr: HTMLTableRowElement;
  finished: HTMLTableCellElement;
  output?: HTMLTableRowElement;
  open: boolean;
}

/**
 * The run history: the 24-hour chart, each job's last runs, and the runs table with its filters.
 * Filtered on one job (`#/runs?job=ID`, where a job's name links), it is that job's page: its
 * runs and its changes (the audit log).
 */
export class RunsView implements View {
  readonly el: HTMLElement;
  private readonly chart = new RunsChart();
  private readonly strips = h("div", { class: "strips" }, Array.from({ length: 6 }, () => h("div", { class: "strip skeleton" }, h("span", { class: "sk" }))));
  private readonly tbody = h("tbody", {}, skeletonRows(8, COLUMNS.length));
  private readonly pager = new Pager(PAGE_SIZE, () => this.ctx.kick());
  private readonly rows = new Map<number, RunRow>();
  private readonly changes = new JobChanges(() => this.ctx.kick());
  private jobId: number | undefined;
  private status: Status;
  private stripsKey = "";

  constructor(private readonly ctx: ViewContext) {
    const job = Number(ctx.params.get("job"));
    this.jobId = Number.isInteger(job) && job > 0 ? job : undefined;
    this.status = (STATUSES.find(([v]) => v === ctx.params.get("status"))?.[0] ?? "") as Status;
    const changed = () => {
      this.pager.reset();
      const params = new URLSearchParams();
      if (this.jobId !== undefined) params.set("job", String(this.jobId));
      if (this.status) params.set("status", this.status);
      history.replaceState(null, "", `#/runs${params.size ? `?${params}` : ""}`);
      this.ctx.kick();
    };
    const jobInput = h("input", { type: "text", inputmode: "numeric", placeholder: "Job id", "aria-label": "Job id", class: "narrow", value: this.jobId ?? "" });
    jobInput.addEventListener("input", debounce(() => {
      const value = Number(jobInput.value.trim());
      this.jobId = jobInput.value.trim() && Number.isInteger(value) && value > 0 ? value : undefined;
      changed();
    }, 300));
    const status = h("select", { "aria-label": "Status" }, STATUSES.map(([value, label]) => h("option", { value, selected: value === this.status }, label)));
    status.addEventListener("change", () => { this.status = status.value as Status; changed(); });
    this.el = h("section", { class: "runs-view", "aria-labelledby": "runs-title" },
      h("div", { class: "view-head" }, h("h1", { id: "runs-title" }, "Runs")),
      h("div", { class: "runs-top" }, this.chart.el,
        h("section", { class: "card strips-card", "aria-labelledby": "strips-title" },
          h("div", { class: "card-head" }, h("h2", { id: "strips-title" }, "Latest runs by job"),
            h("span", { class: "legend-inline muted" }, "oldest → newest")),
          this.strips)),
      h("section", { class: "card table-card", "aria-labelledby": "history-title" },
        h("div", { class: "card-head" }, h("h2", { id: "history-title" }, "History"), h("div", { class: "filters" }, jobInput, status)),
        h("table", { class: "table runs-table" },
          h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col", class: `col-${c.toLowerCase()}` }, c)))),
          this.tbody),
        this.pager.el),
      this.changes.el);
  }

  dispose(): void {
    this.chart.dispose();
  }

  async refresh(): Promise<void> {
    const input = {
      limit: PAGE_SIZE, cursor: this.pager.cursor,
      ...(this.jobId !== undefined ? { jobId: this.jobId } : {}),
      ...(this.status ? { status: this.status } : {}),
    };
    const now = Date.now();
    const [page, overview] = await Promise.all([api.runs.list.query(input), dashboardApi.runsOverview.query(), this.changes.refresh(this.jobId, now)]);
    this.chart.update(overview.chart);
    // Redrawn when the runs change, and twice a minute for the ages in the titles.
    const stripsKey = `${JSON.stringify(overview.strips)}|${Math.floor(now / 30_000)}`;
    if (stripsKey !== this.stripsKey) {
      this.stripsKey = stripsKey;
      this.strips.replaceChildren(...renderStrips(overview.strips, now));
    }
    this.renderRuns(page.items, now);
    this.pager.update(page.items.length, page.nextCursor);
  }

  private renderRuns(items: RunView[], now: number): void {
    if (items.length === 0) {
      this.rows.clear();
      this.tbody.replaceChildren(h("tr", { class: "empty" }, h("td", { colspan: COLUMNS.length },
        this.jobId !== undefined || this.status ? "No runs match these filters." : "No runs yet.")));
      return;
    }
    const trs = items.flatMap((run) => {
      let row = this.rows.get(run.id);
      if (!row) this.rows.set(run.id, (row = this.row(run)));
      setTime(row.finished, run.finishedAt, now);
      return row.open && row.output ? [row.tr, row.output] : [row.tr];
    });
    const ids = new Set(items.map((r) => r.id));
    for (const id of this.rows.keys()) if (!ids.has(id)) this.rows.delete(id);
    const current = Array.from(this.tbody.children);
    if (current.length !== trs.length || trs.some((tr, i) => current[i] !== tr)) this.tbody.replaceChildren(...trs);
  }

  private row(run: RunView): RunRow {
    const finished = h("td", { "data-label": "Finished" });
    const error = h("td", { "data-label": "Error", class: "col-error" });
    setText(error, run.error ?? "", run.error ?? undefined);
    const output = h("td", { "data-label": "Output", class: "col-output" });
    const tr = h("tr", { "data-run-id": run.id, "data-status": run.status },
      finished,
      h("td", { "data-label": "Job" }, h("a", { href: `#/runs?job=${run.jobId}`, class: "job-name" }, run.name), h("span", { class: "job-id" }, `#${run.jobId}`)),
      h("td", { "data-label": "Type" }, run.jobType),
      h("td", { "data-label": "Status" }, h("span", { class: `badge status-${run.status}` }, run.status.replace("_", " "))),
      h("td", { "data-label": "Duration", class: "num" }, formatDuration(run.durationMs)),
      h("td", { "data-label": "Attempt", class: "num" }, String(run.attempt)),
      error,
      output);
    const row: RunRow = { tr, finished, open: false };
    output.append(run.output === null ? h("span", { class: "muted" }, "—") : this.outputToggle(run, run.output, row));
    return row;
  }

  /**
   * The button that opens the run's output in a row below it. The text goes in as text (never as
   * markup), in a `<pre>` that keeps its lines and scrolls when long.
   */
  private outputToggle(run: RunView, text: string, row: RunRow): HTMLElement {
    const id = `run-output-${run.id}`;
    const lines = text.split("\n").length;
    const button = h("button", {
      type: "button", class: "btn small", "aria-expanded": "false", "aria-controls": id,
      "aria-label": `Output of ${run.name} (run ${run.id})`, "data-action": "output",
    }, "Show");
    button.addEventListener("click", () => {
      row.output ??= h("tr", { class: "run-output-row", "data-output-of": run.id },
        h("td", { colspan: COLUMNS.length }, h("pre", { class: "run-output", id, tabindex: 0 }, text)));
      row.open = !row.open;
      button.setAttribute("aria-expanded", String(row.open));
      button.textContent = row.open ? "Hide" : "Show";
      if (row.open) row.tr.after(row.output);
      else row.output.remove();
    });
    return h("span", { class: "output-toggle" }, button, h("span", { class: "muted output-size" }, lines === 1 ? "1 line" : `${lines} lines`));
  }
}
