import { api, type ChangeView } from "../api.ts";
import { h, setTime } from "../dom.ts";
import { changeLines } from "../../text/change-summary.ts";
import { Pager } from "./pager.ts";

const PAGE_SIZE = 20;
const COLUMNS = ["When", "Action", "By", "What changed"] as const;
const ACTION_LABEL: Record<ChangeView["action"], string> = {
  create: "created", update: "updated", delete: "deleted", pause: "paused", resume: "resumed", run_now: "run now",
  retry: "retried", cancel: "run cancelled", pause_all: "all paused", resume_all: "all resumed",
};

/**
 * A job's audit log on its page (`#/runs?job=ID`): who changed it, when, and what, newest first.
 * Every value (names, payloads, the actor) goes in as text, never as markup.
 */
export class JobChanges {
  readonly el: HTMLElement;
  private readonly title = h("h2", { id: "changes-title" }, "Changes");
  private readonly tbody = h("tbody");
  private readonly pager = new Pager(PAGE_SIZE, () => this.onPage());
  private readonly rows = new Map<number, { tr: HTMLTableRowElement; when: HTMLTableCellElement }>();
  private jobId: number | undefined;

  constructor(private readonly onPage: () => void) {
    this.el = h("section", { class: "card table-card job-changes", "aria-labelledby": "changes-title", hidden: true },
      h("div", { class: "card-head" }, this.title, h("span", { class: "muted" }, "who changed this job, newest first")),
      h("table", { class: "table changes-table" },
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col", class: `col-${c.toLowerCase().replace(/\s+/g, "-")}` }, c)))),
        this.tbody),
      this.pager.el);
  }

  /** Loads and shows the changes of `jobId`; hidden without a job. */
  async refresh(jobId: number | undefined, now: number): Promise<void> {
    if (jobId !== this.jobId) {
      this.jobId = jobId;
      this.pager.reset();
      this.rows.clear();
    }
    this.el.hidden = jobId === undefined;
    if (jobId === undefined) return;
    this.title.textContent = `Changes to job #${jobId}`;
    const page = await api.jobs.changes.query({ jobId, limit: PAGE_SIZE, cursor: this.pager.cursor });
    this.render(page.items, now);
    this.pager.update(page.items.length, page.nextCursor);
  }

  private render(items: ChangeView[], now: number): void {
    if (items.length === 0) {
      this.rows.clear();
      this.tbody.replaceChildren(h("tr", { class: "empty" }, h("td", { colspan: COLUMNS.length },
        "No changes recorded (changes made outside the control plane, and those older than the history, are not listed).")));
      return;
    }
    const trs = items.map((change) => {
      let row = this.rows.get(change.id);
      if (!row) this.rows.set(change.id, (row = this.row(change)));
      setTime(row.when, change.at, now);
      return row.tr;
    });
    const ids = new Set(items.map((c) => c.id));
    for (const id of this.rows.keys()) if (!ids.has(id)) this.rows.delete(id);
    const current = Array.from(this.tbody.children);
    if (current.length !== trs.length || trs.some((tr, i) => current[i] !== tr)) this.tbody.replaceChildren(...trs);
  }

  private row(change: ChangeView): { tr: HTMLTableRowElement; when: HTMLTableCellElement } {
    const when = h("td", { "data-label": "When" });
    const lines = changeLines(change);
    const tr = h("tr", { "data-change-id": change.id, "data-action": change.action },
      when,
      h("td", { "data-label": "Action" }, h("span", { class: `badge change-${change.action}` }, ACTION_LABEL[change.action] ?? change.action)),
      h("td", { "data-label": "By", class: "col-by" }, change.actor),
      h("td", { "data-label": "What changed", class: "col-what-changed" },
        lines.length === 0 ? h("span", { class: "muted" }, "—") : h("ul", { class: "change-lines" }, lines.map((line) => h("li", {}, line)))));
    return { tr, when };
  }
}
