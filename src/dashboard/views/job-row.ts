import type { JobView } from "../api.ts";
import { h, replaceKeepingFocus, setText, setTime } from "../dom.ts";
import { describeSchedule } from "../../schedule/describe.ts";
import { formatDateTime, formatUtc } from "../format.ts";

const ICONS = {
  edit: '<path d="M4 20h4L18.5 9.5a2.12 2.12 0 0 0-3-3L5 17v3z"/><path d="M13.5 6.5l3 3"/>',
  delete: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"/>',
};

const parsedIcons = new Map<keyof typeof ICONS, Element>();

/** A small stroke icon (the markup is ours, constant), parsed once. */
function icon(name: keyof typeof ICONS): Node {
  let svg = parsedIcons.get(name);
  if (!svg) {
    const holder = document.createElement("span");
    holder.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true">${ICONS[name]}</svg>`;
    parsedIcons.set(name, (svg = holder.firstElementChild!));
  }
  return svg.cloneNode(true);
}

export type JobAction = "run" | "pause" | "resume" | "retry" | "cancel" | "edit" | "delete";

export const JOB_COLUMNS = ["Name", "Type", "User", "Schedule", "Next run", "Last run", "State", "Attempts", "Last error", "Actions"] as const;

const STATE_LABEL: Record<JobView["state"], string> = { active: "active", paused: "paused", dead: "dead", running: "running", finished: "finished" };

/** The exact schedule behind the words, for the title. */
function scheduleDetail(job: JobView): string {
  if (job.cron !== null) return `cron "${job.cron}" in ${job.timezone ?? "UTC"}`;
  if (job.intervalMinutes !== null) return `every ${job.intervalMinutes} min${job.runAt ? `, from ${formatUtc(Date.parse(job.runAt))}` : ""}`;
  return job.runAt ? `${formatDateTime(Date.parse(job.runAt))} (your time)\n${formatUtc(Date.parse(job.runAt))}` : "";
}

/** One job's row; `update` changes only what changed, so focus and selection survive refreshes. */
export class JobRow {
  readonly tr: HTMLTableRowElement;
  private readonly cells: Record<(typeof JOB_COLUMNS)[number], HTMLTableCellElement>;
  private readonly link = h("a", { class: "job-name" });
  private readonly idLabel = h("span", { class: "job-id" });
  private actionsKey = "";

  constructor(private job: JobView, private readonly onAction: (job: JobView, action: JobAction) => void) {
    const cells = Object.fromEntries(JOB_COLUMNS.map((c) => [c, h("td", { "data-label": c, class: `col-${c.toLowerCase().replace(/\s+/g, "-")}` })]));
    this.cells = cells as JobRow["cells"];
    this.cells.Name.append(this.link, this.idLabel);
    this.tr = h("tr", { "data-job-id": job.id }, ...Object.values(this.cells));
  }

  update(job: JobView, now: number, busy: JobAction | undefined): void {
    this.job = job;
    const c = this.cells;
    setText(this.link, job.name, `Runs of ${job.name}`);
    this.link.href = `#/runs?job=${job.id}`;
    setText(this.idLabel, `#${job.id}`);
    setText(c.Type, job.jobType);
    setText(c.User, job.userId === null ? "—" : String(job.userId));
    setText(c.Schedule, describeSchedule(job, { time: (ms) => formatDateTime(ms, { now }) }), scheduleDetail(job));
    // A row no server has scheduled yet is due as its seed columns say; a paused or dead job will not run then.
    setTime(c["Next run"], job.state === "paused" || job.state === "dead" ? null : job.dueAt, now);
    setTime(c["Last run"], job.lastRunAt, now, "never");
    if (c.State.dataset.state !== job.state) {
      c.State.dataset.state = job.state;
      c.State.replaceChildren(h("span", { class: `badge state-${job.state}` }, STATE_LABEL[job.state]));
    }
    setText(c.Attempts, `${job.attempts} / ${job.maxAttempts}`, "failed attempts in a row / most before a one-time job is dead");
    c.Attempts.classList.toggle("warn", job.attempts > 0);
    setText(c["Last error"], job.lastError ?? "", job.lastError ?? undefined);
    this.tr.dataset.state = job.state;
    const key = `${job.state}|${busy ?? ""}|${job.name}|${job.cancelRequestedAt !== null}`;
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      replaceKeepingFocus(c.Actions, this.actions(job, busy));
    }
  }

  private actions(job: JobView, busy: JobAction | undefined): HTMLElement {
    const running = job.state === "running";
    // aria-disabled, not disabled: a button that stops working for a moment keeps the keyboard focus.
    const button = (action: JobAction, label: string, slot: string, extra: { class?: string; disabled?: boolean } = {}) => {
      const off = Boolean(busy) || Boolean(extra.disabled);
      return h("button", {
        type: "button", class: `btn small ${extra.class ?? ""}`, "data-action": action, "data-focus-key": `${job.id}:${slot}`,
        "aria-label": `${label} ${job.name}`, title: action === "edit" || action === "delete" ? label : undefined,
        "aria-disabled": off ? "true" : undefined, onclick: () => { if (!off) this.onAction(this.job, action); },
      }, action === "edit" || action === "delete" ? [icon(action), h("span", { class: "label-narrow" }, label)] : busy === action ? `${label}…` : label);
    };
    // A running job's run can be cancelled (once: then it says so until the run has stopped).
    const toggle = job.state === "dead" ? button("retry", "Retry", "toggle", { class: "primary-soft" })
      : job.state === "paused" ? button("resume", "Resume", "toggle")
      : running ? button("cancel", job.cancelRequestedAt === null ? "Cancel run" : "Cancelling", "toggle", { class: "danger-soft", disabled: job.cancelRequestedAt !== null })
      : button("pause", "Pause", "toggle");
    return h("div", { class: "actions" },
      button("run", busy === "run" || running ? "Running" : "Run now", "run", { disabled: running || job.state === "dead" }),
      toggle,
      button("edit", "Edit", "edit", { class: "icon", disabled: running }),
      button("delete", "Delete", "delete", { class: "icon danger-soft" }));
  }
}

/** Placeholder rows while the first page loads: the table keeps its height. */
export function skeletonRows(count: number, columns: number): HTMLTableRowElement[] {
  return Array.from({ length: count }, () => h("tr", { class: "skeleton", "aria-hidden": "true" },
    Array.from({ length: columns }, () => h("td", {}, h("span", { class: "sk" })))));
}
