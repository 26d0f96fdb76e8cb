/**
 * The dashboard's shell: sign-in, the three views by location hash (#/jobs, #/runs, #/health),
 * the live loop and sign-out. Without an accepted token nothing but the sign-in form is shown
 * and nothing is fetched.
 */
import { errorText, isUnauthorized, tryToken, type JobTypeView } from "./api.ts";
import { Live, type LiveState } from "./live.ts";
import { session } from "./session.ts";
import { HealthViewPage } from "./views/health-view.ts";
import { JobsView } from "./views/jobs-view.ts";
import { RunsView } from "./views/runs-view.ts";
import type { View, ViewContext } from "./views/view.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const signinEl = $<HTMLElement>("signin");
const form = $<HTMLFormElement>("signin-form");
const tokenInput = $<HTMLInputElement>("token");
const signinError = $<HTMLElement>("signin-error");
const submit = $<HTMLButtonElement>("signin-submit");
const appEl = $<HTMLElement>("app");
const viewEl = $<HTMLElement>("view");
const liveEl = $<HTMLElement>("live");

const VIEWS = {
  jobs: { title: "Jobs", make: (ctx: ViewContext) => new JobsView(ctx) },
  runs: { title: "Runs", make: (ctx: ViewContext) => new RunsView(ctx) },
  health: { title: "Health", make: (ctx: ViewContext) => new HealthViewPage(ctx) },
} as const;
type ViewName = keyof typeof VIEWS;

let jobTypes: JobTypeView[] = [];
let current: View | undefined;
let live: Live | undefined;

function showSignIn(message = ""): void {
  appEl.hidden = true;
  signinEl.hidden = false;
  document.title = "Sign in · cronjobs";
  signinError.textContent = message;
  tokenInput.value = "";
  tokenInput.setAttribute("aria-invalid", String(Boolean(message)));
  tokenInput.focus();
}

/** Forgets the token and everything shown with it. */
function signOut(message = ""): void {
  session.clear();
  live?.stop();
  live = undefined;
  current?.dispose?.();
  current = undefined;
  viewEl.replaceChildren();
  for (const dialog of Array.from(document.querySelectorAll("dialog"))) dialog.remove();
  $("toasts").replaceChildren();
  jobTypes = [];
  showSignIn(message);
}

const unauthorized = () => signOut("The server refused the token: sign in again.");

function setLive(state: LiveState, error?: unknown): void {
  if (state === "retrying" && isUnauthorized(error)) return unauthorized();
  liveEl.dataset.state = state;
  liveEl.querySelector(".live-text")!.textContent = state === "live" ? "Live" : state === "paused" ? "Paused" : "Reconnecting…";
  liveEl.title = state === "retrying" ? `Last refresh failed: ${errorText(error)}` : state === "live" ? `Updated ${new Date().toLocaleTimeString()}` : "Paused while the tab is hidden";
}

function route(): void {
  if (!live) return;
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const name: ViewName = path in VIEWS ? (path as ViewName) : "jobs";
  current?.dispose?.();
  const ctx: ViewContext = { params: new URLSearchParams(query), kick: () => live?.kick(), jobTypes, unauthorized };
  current = VIEWS[name].make(ctx);
  viewEl.replaceChildren(current.el);
  document.title = `${VIEWS[name].title} · cronjobs`;
  for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>(".tabs a"))) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  live.kick();
}

function enter(types: JobTypeView[]): void {
  jobTypes = types;
  live = new Live(async () => { await current?.refresh(); }, setLive);
  route();
  live.start();
  // The shell is shown in the next task, once the first requests have left: its first frame
  // (layout and paint of the whole page) then overlaps the wait for the answers.
  setTimeout(() => {
    if (!live) return;
    signinEl.hidden = true;
    appEl.hidden = false;
    viewEl.focus({ preventScroll: true });
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) {
    signinError.textContent = "Enter the admin token.";
    return;
  }
  submit.disabled = true;
  submit.textContent = "Signing in…";
  performance.mark("cronjobs:sign-in");
  try {
    const types = await tryToken(token);
    session.save(token);
    tokenInput.value = "";
    signinError.textContent = "";
    enter(types);
  } catch (err) {
    signinError.textContent = isUnauthorized(err) ? "The server refused this token." : `Could not sign in: ${errorText(err)}`;
    tokenInput.setAttribute("aria-invalid", "true");
    tokenInput.select();
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
});

$("signout").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);

// A token kept by this tab (a reload): check it before showing anything.
if (session.token) {
  signinEl.hidden = true;
  tryToken(session.token).then(enter, (err) => signOut(isUnauthorized(err) ? "" : `Could not sign in: ${errorText(err)}`));
} else {
  showSignIn();
}
