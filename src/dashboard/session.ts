/** The admin token of this tab: in memory and in sessionStorage (gone when the tab closes), never in a URL. */
const KEY = "cronjobs.adminToken";

let token: string | null = read();

function read(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export const session = {
  get token(): string | null {
    return token;
  },
  /** Keeps `value` for this tab. */
  save(value: string): void {
    token = value;
    try {
      sessionStorage.setItem(KEY, value);
    } catch {
      // Storage refused (private mode): the token lives in memory until the page is left.
    }
  },
  /** Forgets the token everywhere. */
  clear(): void {
    token = null;
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // Nothing stored.
    }
  },
};
