import { AppError } from "./errors.ts";

// Tokens (ADMIN_TOKEN, VIEWER_TOKEN, CRON_SECRET): their form, who holds them, and how a
// presented one is checked. No file access here: config.ts validates with it, secrets.ts stores.

const MIN_TOKEN = 16;
const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * The secrets the HTTP server checks. `adminToken` and `viewerToken` are either one plain token
 * or a list of named ones, `name:token,name:token` (see `parseTokens`).
 */
export interface Secrets {
  cronSecret: string;
  adminToken: string;
  viewerToken?: string;
}

/** What a token may do: an admin reads and changes, a viewer only reads. */
export type Role = "admin" | "viewer";

/** One accepted bearer token and the name its holder acts under. */
export interface NamedToken {
  name: string;
  token: string;
  role: Role;
}

/**
 * Parses `ADMIN_TOKEN`/`VIEWER_TOKEN`: a value without `:` is one token named `defaultName`
 * (`admin`, `viewer`); otherwise it is a comma-separated list of `name:token`. Throws an
 * `AppError("INVALID_INPUT")` naming `variable` and the entry at fault.
 */
export function parseTokens(value: string, variable: string, role: Role): NamedToken[] {
  const bad = (why: string) => new AppError("INVALID_INPUT", `bad configuration: ${variable} ${why}`);
  const check = (token: string, where: string) => {
    if (token.length < MIN_TOKEN) throw bad(`${where}is shorter than ${MIN_TOKEN} characters`);
    if (/[\s,]/.test(token)) throw bad(`${where}contains a space or a comma`);
  };
  if (!value.includes(":")) {
    check(value, "");
    return [{ name: role, token: value, role }];
  }
  const entries = value.split(",").map((entry, i) => {
    const at = entry.indexOf(":");
    const name = entry.slice(0, at).trim();
    const token = entry.slice(at + 1).trim();
    if (at < 0 || !NAME.test(name)) throw bad(`entry ${i + 1} must be name:token (a name of letters, digits, _ . @ -)`);
    check(token, `token "${name}" `);
    return { name, token, role };
  });
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name)) throw bad(`names "${name}" twice`);
    seen.add(name);
  }
  return entries;
}

/** The token a client sends for a configured value: the plain token, or the first named one. */
export function clientToken(value: string, variable: string): string {
  return parseTokens(value, variable, "admin")[0]!.token;
}

/** Every token a server accepts, with its name and role; looked up in constant time. */
export class TokenTable {
  private constructor(readonly entries: readonly NamedToken[]) {}

  /** Throws (naming the variable) when a value is malformed or a token or name is used twice. */
  static from(secrets: Pick<Secrets, "adminToken" | "viewerToken">): TokenTable {
    const admins = parseTokens(secrets.adminToken, "ADMIN_TOKEN", "admin");
    const viewers = secrets.viewerToken === undefined ? [] : parseTokens(secrets.viewerToken, "VIEWER_TOKEN", "viewer");
    for (const viewer of viewers) {
      if (admins.some((a) => a.name === viewer.name)) throw new AppError("INVALID_INPUT", `bad configuration: VIEWER_TOKEN names "${viewer.name}", which ADMIN_TOKEN names too`);
    }
    const all = [...admins, ...viewers];
    if (new Set(all.map((e) => e.token)).size !== all.length) throw new AppError("INVALID_INPUT", "bad configuration: the same token is given twice in ADMIN_TOKEN/VIEWER_TOKEN");
    return new TokenTable(all);
  }

  /** The entry whose token was presented, if any: every entry is compared, so timing tells nothing. */
  identify(presented: string | undefined): NamedToken | undefined {
    if (presented === undefined) return undefined;
    let found: NamedToken | undefined;
    for (const entry of this.entries) {
      if (secretMatches(presented, entry.token) && found === undefined) found = entry;
    }
    return found;
  }
}

/** Constant-time comparison of a presented secret with the expected one. */
export function secretMatches(presented: string, expected: string): boolean {
  // Hashing first makes both sides the same length, so neither length nor content leaks.
  const a = new Bun.CryptoHasher("sha256").update(presented).digest();
  const b = new Bun.CryptoHasher("sha256").update(expected).digest();
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** `Authorization: Bearer <token>` → token; anything else → undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? "");
  return match?.[1];
}
