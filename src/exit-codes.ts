/** Exit codes of every command (the CLI and the crontab scripts), defined in this one place. */
export const EXIT = {
  /** Everything ran / everything is fresh. */
  OK: 0,
  /** The work ran and something failed: a job, a test, a stale source, a rejected request. */
  FAILED: 1,
  /** Nothing could be done: bad usage or configuration, or an unreachable dependency. */
  UNUSABLE: 2,
} as const;
