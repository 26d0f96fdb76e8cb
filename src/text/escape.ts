/**
 * Control characters in text that reaches a terminal, a log or a chat message: C0 (U+0000–U+001F,
 * ESC and newline among them), DEL (U+007F) and C1 (U+0080–U+009F, CSI among them).
 * Kept free of imports: the per-minute scripts load it at start-up.
 */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARS_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One control character as visible text: `\n`, `\r`, `\t`, else `\x1b` (C0, DEL) or `\u009b` (C1). */
function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control character shown as an escape (`\n`, `\x1b`, `\u009b`), so one value
 * prints as one line and cannot move the cursor, recolour the terminal or forge a log line.
 * Everything else, a backslash included, is left as it is.
 */
export function escapeControl(text: string): string {
  return CONTROL_CHARS.test(text) ? text.replace(CONTROL_CHARS_ALL, visible) : text;
}
