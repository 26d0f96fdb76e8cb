import type { JobTypeView } from "../api.ts";

/** One page of the dashboard: its element, and a refresh the live loop calls about every second. */
export interface View {
  readonly el: HTMLElement;
  refresh(): Promise<void>;
  dispose?(): void;
}

/** What a view gets from the shell. */
export interface ViewContext {
  /** The part of the location hash after `?`: `#/runs?job=3`. */
  params: URLSearchParams;
  /** Refresh now (after an action), not at the next tick of the live loop. */
  kick(): void;
  /** The registered job types, loaded once per sign-in. */
  jobTypes: JobTypeView[];
  /** A call failed because the token was refused: sign out. */
  unauthorized(): void;
}
