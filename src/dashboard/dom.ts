/** A few DOM helpers: elements from a description, times with their UTC title, and focus care. */
import { formatDateTime, formatUtc, relativeTime } from "./format.ts";

type Child = Node | string | number | null | undefined | false | Child[];
type Props = Record<string, unknown>;

/** `h("button", { class: "btn", onclick }, "Pause")`: attributes, `on…` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value as EventListener);
    else if (key === "class") el.className = String(value);
    else if (key === "value" && "value" in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Sets text and title only when they change (no needless repaint, selection kept). */
export function setText(el: HTMLElement, text: string, title?: string): void {
  if (el.textContent !== text) el.textContent = text;
  if (title === undefined) el.removeAttribute("title");
  else if (el.title !== title) el.title = title;
}

/** The title of a time: the browser's zone and UTC. */
export const timeTitle = (ms: number) => `${formatDateTime(ms)} (your time)\n${formatUtc(ms)}`;

/** A `<time>` in words relative to `now`, its exact time in the title. */
export function timeEl(iso: string | null, now: number, empty = "—"): HTMLElement {
  if (iso === null) return h("span", { class: "muted" }, empty);
  const ms = Date.parse(iso);
  return h("time", { datetime: iso, title: timeTitle(ms) }, relativeTime(ms, now));
}

/** Updates a cell holding `timeEl` output in place. */
export function setTime(cell: HTMLElement, iso: string | null, now: number, empty = "—"): void {
  const current = cell.firstElementChild;
  if (iso !== null && current instanceof HTMLTimeElement && current.dateTime === iso) {
    setText(current, relativeTime(Date.parse(iso), now), current.title);
    return;
  }
  cell.replaceChildren(timeEl(iso, now, empty));
}

/**
 * Replaces `el`'s content, keeping keyboard focus on the element of the same `data-focus-key`
 * when there is one (so a refresh never throws the user's focus away).
 */
export function replaceKeepingFocus(el: HTMLElement, ...children: Node[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && el.contains(active) ? active.dataset.focusKey : undefined;
  el.replaceChildren(...children);
  if (key) el.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
