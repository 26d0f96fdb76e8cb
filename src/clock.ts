/** The one source of "now" (milliseconds since the epoch). Tests pass a `ManualClock`. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ms: number | Date): void {
    this.current = typeof ms === "number" ? ms : ms.getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
