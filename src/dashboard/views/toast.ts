import { h } from "../dom.ts";

/** A short message at the bottom of the page, read out by screen readers; errors stay longer. */
export function toast(text: string, kind: "ok" | "error" = "ok"): void {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = h("div", { class: `toast ${kind}` }, text);
  region.append(item);
  while (region.childElementCount > 4) region.firstElementChild?.remove();
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}
