import { expect, test } from "bun:test";
import { CLAIM_AHEAD_MS, ClaimSize } from "../../src/runner/claim-size.ts";

const cases: { name: string; concurrency: number; batchSize: number; runs: number[]; next: number; early?: boolean }[] = [
  { name: "before any run: what the slots can start at once", concurrency: 10, batchSize: 500, runs: [], next: 10 },
  { name: "before any run, before a slot: a full batch (time bounds claims there)", concurrency: 10, batchSize: 500, runs: [], next: 500, early: true },
  { name: "slow runs, before a slot: still what the slots start within the claim-ahead time", concurrency: 10, batchSize: 500, runs: [60_000], next: 10, early: true },
  { name: "instant runs: a full batch", concurrency: 10, batchSize: 500, runs: [0, 0, 1, 0], next: 500 },
  { name: "runs of a tenth of the claim-ahead time on 8 slots: 80", concurrency: 8, batchSize: 500, runs: [CLAIM_AHEAD_MS / 10], next: 80 },
  { name: "runs slower than the claim-ahead time: still one per slot", concurrency: 10, batchSize: 500, runs: [60_000], next: 10 },
  { name: "never more than batchSize", concurrency: 2, batchSize: 3, runs: [0], next: 3 },
  { name: "never more than batchSize, even before a run", concurrency: 10, batchSize: 3, runs: [], next: 3 },
  { name: "a clock stepped back counts as no time, not as negative time that would hide the slow runs after it", concurrency: 4, batchSize: 500, runs: [-5_000, 200], next: 50 },
];

for (const c of cases) {
  test(`claim size: ${c.name}`, () => {
    const size = new ClaimSize(c.concurrency, c.batchSize);
    for (const ms of c.runs) size.ran(ms);
    expect(size.next(c.early)).toBe(c.next);
  });
}

test("claim size: claims before a slot hold what the slots start within the claim-ahead time; before any run, no count bounds them", () => {
  const size = new ClaimSize(4, 3);
  expect(size.ahead).toBe(Number.POSITIVE_INFINITY);
  size.ran(CLAIM_AHEAD_MS / 2);
  expect(size.ahead).toBe(8);
  size.ran(1_000_000);
  expect(size.ahead).toBe(4);
});

test("claim size: the mean follows recent runs, so jobs turning fast again are soon claimed in full batches", () => {
  const size = new ClaimSize(10, 500);
  for (let i = 0; i < 20; i++) size.ran(1_000);
  expect(size.next()).toBe(10);
  const after: number[] = [];
  for (let i = 0; i < 60; i++) {
    size.ran(1);
    after.push(size.next());
  }
  expect(after.every((n, i) => i === 0 || n >= after[i - 1]!)).toBe(true);
  expect(after.at(-1)).toBe(500);
});
