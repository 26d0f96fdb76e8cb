import { TRPCClientError } from "@trpc/client";

/**
 * The server names each field at fault as data (`error.data.fieldErrors`: messages by dotted
 * path, e.g. `{ "payload.url": ["must be an http or https URL"] }`); the job form shows each
 * message next to its field. Nothing here reads the error's message text.
 */

/**
 * Messages by form field: a path goes to `rename[path]` if given, else to its first segment
 * (`payload.url` → `payload`) when the form has that field; anything else goes to `""` (the form).
 */
export function fieldErrors(err: unknown, fields: readonly string[], rename: Readonly<Record<string, string>> = {}): Map<string, string> {
  const out = new Map<string, string>();
  const add = (field: string, text: string) => out.set(field, out.has(field) ? `${out.get(field)}; ${text}` : text);
  const data = err instanceof TRPCClientError ? (err.data as { fieldErrors?: Record<string, string[]> } | undefined) : undefined;
  const byPath = data?.fieldErrors;
  if (!byPath) {
    add("", err instanceof Error ? err.message : String(err));
    return out;
  }
  for (const [path, messages] of Object.entries(byPath)) {
    const field = rename[path] ?? path.split(".")[0]!;
    for (const message of messages) {
      if (fields.includes(field)) add(field, message);
      else add("", `${path}: ${message}`);
    }
  }
  return out;
}
