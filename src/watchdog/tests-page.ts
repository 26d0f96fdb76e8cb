import { createHash } from "node:crypto";
import { STATUS_LABEL, type TestsReport, type TestsRun } from "./tests-report.ts";

/** Markup that is already safe; everything else put into `html` is escaped. */
class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Template tag: every interpolated value is HTML-escaped unless it is `SafeHtml` (or a list of them). */
function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

// Marks the page stale when it is read after its stale-after time (the file itself does not change).
const STALE_SCRIPT = `(function(){var b=document.body,t=Date.parse(b.getAttribute("data-stale-after"));`
  + `if(Date.now()>t){b.classList.add("is-stale");document.getElementById("stale").hidden=false;}})();`;
/** The hash its CSP allows the page's one inline script by (the server's `/tests-page` sends the same policy). */
export const STALE_SCRIPT_HASH = createHash("sha256").update(STALE_SCRIPT).digest("base64");

/** The page's own policy: its inline style and its one script, nothing else. */
export const TESTS_PAGE_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${STALE_SCRIPT_HASH}'`;

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--pass:#3fb950;--fail:#f85149;--warn:#d29922}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:48rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.status{display:inline-block;padding:.1rem .6rem;border-radius:1rem;color:#fff;font-weight:600}
.status-passed{background:var(--pass)}.status-failed,.status-error{background:var(--fail)}.status-timed_out{background:var(--warn)}
.stale{border:2px solid var(--warn);border-radius:.5rem;padding:.5rem .75rem;font-weight:600}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:color-mix(in srgb,var(--line) 30%,transparent);padding:.5rem;border-radius:.375rem;margin:.25rem 0 0}
ol{padding-left:1.25rem}li{margin-bottom:.75rem;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid var(--line)}
.muted{color:var(--muted)}
`;

const time = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function counts(run: TestsRun): string {
  const c = run.counts;
  if (!c) return "—";
  return `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`;
}

/** The tests status page: one self-contained HTML document (inline style, no requests). */
export function renderTestsPage(report: TestsReport): string {
  const label = STATUS_LABEL[report.status];
  const failures = report.failures.map((f) => html`<li><strong>${f.name}</strong>${f.file ? html` <code class="muted">${f.file}</code>` : ""}<pre>${f.message}</pre></li>`);
  const history = report.history.map((run) => html`<tr><td>${time(run.startedAt)}</td><td class="run-status">${STATUS_LABEL[run.status]}</td><td>${duration(run.durationMs)}</td><td>${counts(run)}</td></tr>`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${TESTS_PAGE_CSP}">
<meta http-equiv="refresh" content="60">
<meta name="robots" content="noindex">
<title>Tests ${label} — ${report.host}</title>
<style>${new SafeHtml(CSS)}</style>
</head>
<body data-status="${report.status}" data-stale-after="${report.staleAfter}">
<main>
<h1>Tests <span id="status" class="status status-${report.status}">${label}</span></h1>
<p id="stale" class="stale" hidden>Stale: no run since ${time(report.finishedAt)}; this page expected a newer one by ${time(report.staleAfter)}.</p>
<p id="reason">${report.reason}</p>
<dl>
<dt>Tests</dt><dd id="counts">${report.counts ? html`${report.counts.tests} total: ${counts(report)}` : html`<span class="muted">no test report; status from the exit code</span>`}</dd>
<dt>Started</dt><dd id="started">${time(report.startedAt)}</dd>
<dt>Duration</dt><dd id="duration">${duration(report.durationMs)}</dd>
<dt>Stale after</dt><dd id="stale-after">${time(report.staleAfter)}</dd>
<dt>Exit</dt><dd>${report.exitCode === null ? (report.signal ? `killed by ${report.signal}` : "—") : `code ${report.exitCode}`}</dd>
<dt>Command</dt><dd><code>${report.command}</code></dd>
<dt>Directory</dt><dd><code>${report.cwd}</code></dd>
<dt>Host</dt><dd>${report.host}</dd>
</dl>
${failures.length > 0 ? html`<h2>Failing tests (${report.failures.length + report.moreFailures})</h2><ol id="failures">${failures}</ol>${report.moreFailures > 0 ? html`<p class="muted">… and ${report.moreFailures} more.</p>` : ""}` : ""}
<h2>Recent runs</h2>
<table id="history"><thead><tr><th>Started</th><th>Status</th><th>Duration</th><th>Tests</th></tr></thead><tbody>${history}</tbody></table>
<h2>Output</h2>
<details${report.status === "passed" ? "" : new SafeHtml(" open")}><summary>Last ${Math.ceil(report.output.length / 1024)} KiB of the command's output</summary><pre id="output">${report.output}</pre></details>
</main>
<script>${new SafeHtml(STALE_SCRIPT)}</script>
</body>
</html>
`.value;
}
