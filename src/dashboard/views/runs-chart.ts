import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RunsOverview } from "../api.ts";
import { h } from "../dom.ts";
import { formatCount, formatUtc } from "../format.ts";

type Chart = RunsOverview["chart"];
type Bucket = Chart["buckets"][number];

const SERIES = [
  { key: "succeeded", label: "Succeeded", color: "--ok" },
  { key: "failed", label: "Failed", color: "--fail" },
  { key: "timedOut", label: "Timed out", color: "--timeout" },
] as const;
const HEIGHT = 220;

const hourMinute = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const span = (start: number, size: number) => `${hourMinute.format(start)}–${hourMinute.format(start + size)}`;

/**
 * Runs per hour over the last 24 hours: one group of three bars (succeeded, failed, timed out)
 * per hour, drawn by uPlot; the same figures as a table under "Show as table".
 */
export class RunsChart {
  readonly el: HTMLElement;
  private readonly plotEl = h("div", { class: "chart-plot", role: "img", "aria-label": "Runs per hour, last 24 hours" });
  private readonly readout = h("p", { class: "chart-readout muted", "aria-live": "off" }, "Point at a bar for its figures.");
  private readonly totals = new Map<string, HTMLElement>();
  private readonly tbody = h("tbody");
  private plot: uPlot | undefined;
  private chart: Chart | undefined;
  private dataKey = "";
  private readonly resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
  private readonly scheme = matchMedia("(prefers-color-scheme: dark)");
  private readonly redraw = () => { this.plot?.destroy(); this.plot = undefined; this.dataKey = ""; if (this.chart) this.update(this.chart); };

  constructor() {
    const legend = h("ul", { class: "legend" }, SERIES.map((s) => {
      const total = h("strong", {}, "0");
      this.totals.set(s.key, total);
      return h("li", {}, h("span", { class: `swatch swatch-${s.key}`, "aria-hidden": "true" }), `${s.label} `, total);
    }));
    this.el = h("section", { class: "card chart-card", "aria-labelledby": "chart-title" },
      h("div", { class: "card-head" }, h("h2", { id: "chart-title" }, "Runs in the last 24 hours"), legend),
      this.plotEl, this.readout,
      h("details", { class: "chart-table" }, h("summary", {}, "Show as table"),
        h("table", { class: "table compact", "data-testid": "chart-table" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hour"), SERIES.map((s) => h("th", { scope: "col", class: "num" }, s.label)))),
          this.tbody)));
    this.resize.observe(this.plotEl);
    this.scheme.addEventListener("change", this.redraw);
  }

  dispose(): void {
    this.resize.disconnect();
    this.scheme.removeEventListener("change", this.redraw);
    this.plot?.destroy();
  }

  update(chart: Chart): void {
    this.chart = chart;
    const key = JSON.stringify(chart.buckets);
    if (key === this.dataKey && this.plot) return;
    this.dataKey = key;
    for (const s of SERIES) this.totals.get(s.key)!.textContent = formatCount(chart.buckets.reduce((n, b) => n + b[s.key], 0));
    this.tbody.replaceChildren(...chart.buckets.map((b) => h("tr", { "data-start": new Date(b.start).toISOString() },
      h("th", { scope: "row", title: `${formatUtc(b.start)} – ${formatUtc(b.start + chart.bucketMs)}` }, span(b.start, chart.bucketMs)),
      SERIES.map((s) => h("td", { class: "num", "data-series": s.key }, String(b[s.key]))))));
    const data: uPlot.AlignedData = [chart.buckets.map((b) => b.start / 1000), ...SERIES.map((s) => chart.buckets.map((b) => b[s.key]))];
    if (this.plot) this.plot.setData(data);
    else this.plot = new uPlot(this.options(chart.bucketMs / 1000), data, this.plotEl);
  }

  private width(): number {
    return Math.max(280, this.plotEl.clientWidth);
  }

  private options(size: number): uPlot.Options {
    const css = getComputedStyle(document.body);
    const color = (name: string) => css.getPropertyValue(name).trim();
    const axis = { stroke: color("--muted"), grid: { stroke: color("--grid"), width: 1 }, ticks: { show: false }, font: `12px ${css.fontFamily}` };
    // A group takes 80% of its hour; each bar a third of that, with a hairline between.
    const group = size * 0.8;
    const bar = group / SERIES.length;
    return {
      width: this.width(),
      height: HEIGHT,
      legend: { show: false },
      cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (u) => [u.data[0][0]!, u.data[0].at(-1)! + size] },
        y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
      },
      axes: [
        { ...axis, space: 56, incrs: [3600, 7200, 10_800, 21_600], values: (_u, splits) => splits.map((s) => hourMinute.format(s * 1000)) },
        { ...axis, size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000], values: (_u, splits) => splits.map((s) => formatCount(s)) },
      ],
      series: [
        {},
        ...SERIES.map((s, i) => ({
          label: s.label,
          fill: color(s.color),
          stroke: color(s.color),
          width: 0,
          points: { show: false },
          paths: uPlot.paths.bars!({
            radius: 0,
            disp: {
              x0: { unit: 1, values: (u: uPlot) => Array.from(u.data[0], (x) => x + (size - group) / 2 + i * bar + bar * 0.05) },
              size: { unit: 1, values: () => [bar * 0.9] },
            },
          }),
        })),
      ],
      hooks: {
        setCursor: [(u) => {
          const i = u.cursor.idx;
          const b: Bucket | undefined = i === null || i === undefined ? undefined : this.chart?.buckets[i];
          this.readout.textContent = b ? `${span(b.start, size * 1000)}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.timedOut} timed out` : "Point at a bar for its figures.";
        }],
      },
    };
  }
}
