import { h } from "../dom.ts";
import { formatCount } from "../format.ts";

/**
 * Cursor pagination (pages go by id, newest first): the cursors of the pages before this
 * one are kept so that "Previous" goes back exactly.
 */
export class Pager {
  private stack: (number | null)[] = [];
  cursor: number | null = null;
  private next: number | null = null;
  readonly el: HTMLElement;
  private readonly label = h("span", { class: "pager-label muted" }, "");
  private readonly prevButton = h("button", { type: "button", class: "btn", "data-focus-key": "prev" }, "← Previous");
  private readonly nextButton = h("button", { type: "button", class: "btn", "data-focus-key": "next" }, "Next →");

  constructor(private readonly pageSize: number, private readonly onChange: () => void) {
    this.prevButton.addEventListener("click", () => this.back());
    this.nextButton.addEventListener("click", () => this.forward());
    this.el = h("nav", { class: "pager", "aria-label": "Pages" }, this.label, h("span", { class: "pager-buttons" }, this.prevButton, this.nextButton));
    this.update(0, null);
  }

  /** Back to the first page (filters changed). */
  reset(): void {
    this.stack = [];
    this.cursor = null;
  }

  /** Shows the page just loaded: `count` items, `nextCursor` from the answer. */
  update(count: number, nextCursor: number | null): void {
    this.next = nextCursor;
    const first = this.stack.length * this.pageSize;
    this.label.textContent = count === 0 ? (this.stack.length ? "No more items" : "") : `${formatCount(first + 1)}–${formatCount(first + count)}${nextCursor !== null ? "" : " (last page)"}`;
    this.prevButton.disabled = this.stack.length === 0;
    this.nextButton.disabled = nextCursor === null;
  }

  private back(): void {
    if (this.stack.length === 0) return;
    this.cursor = this.stack.pop() ?? null;
    this.onChange();
  }

  private forward(): void {
    if (this.next === null) return;
    this.stack.push(this.cursor);
    this.cursor = this.next;
    this.onChange();
  }
}
