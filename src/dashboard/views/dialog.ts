import { h } from "../dom.ts";

/**
 * A modal `<dialog>`: focus moves into it and returns to where it was, Escape closes it.
 * Answers the dialog (already open) and a function that closes it.
 */
export function openDialog(title: string, body: Node[], { wide = false, onClose }: { wide?: boolean; onClose?: () => void } = {}) {
  const previous = document.activeElement as HTMLElement | null;
  const heading = h("h2", { id: `dialog-title-${Date.now()}` }, title);
  const dialog = h("dialog", { class: `dialog${wide ? " wide" : ""}`, "aria-labelledby": heading.id }, heading, ...body);
  const close = () => dialog.open && dialog.close();
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose?.();
    if (previous?.isConnected) previous.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks before something that cannot be undone; resolves true on confirmation. */
export function confirmAction(title: string, message: string, confirmLabel: string, dismissLabel = "Cancel"): Promise<boolean> {
  return new Promise((resolve) => {
    let confirmed = false;
    const cancel = h("button", { type: "button", class: "btn", onclick: () => close() }, dismissLabel);
    const ok = h("button", { type: "button", class: "btn danger", onclick: () => { confirmed = true; close(); } }, confirmLabel);
    const { close } = openDialog(title, [h("p", {}, message), h("div", { class: "dialog-actions" }, cancel, ok)], { onClose: () => resolve(confirmed) });
    cancel.focus();
  });
}
