/**
 * The server names each field at fault in one line: `intervalMinutes: must be at least 1;
 * payload.url: Required`. The job form shows each message next to its field.
 */

/** Messages by field (the first segment of the path: `payload.url` → `payload`); `""`: the form. */
export function fieldErrors(message: string, fields: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const add = (field: string, text: string) => out.set(field, out.has(field) ? `${out.get(field)}; ${text}` : text);
  // A part starts where "; " is followed by "name:" or "a.b:"; messages themselves may hold "; ".
  for (const part of message.split(/;\s(?=[A-Za-z_][\w.]*(?:,\s[\w.]+)*:\s)/)) {
    const match = /^([A-Za-z_][\w.]*)(?:\.[\w.]+)?:\s([\s\S]*)$/.exec(part);
    const field = match?.[1]?.split(".")[0];
    if (match && field !== undefined && fields.includes(field)) add(field, match[2]!);
    else add("", part);
  }
  return out;
}
