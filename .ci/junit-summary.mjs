// The closing count of a CI run, from bun's JUnit report and the test run's console log:
//   node .ci/junit-summary.mjs REPORT.xml [CONSOLE.log]
// bun's JUnit file leaves out a test file that fails to load (and any error thrown between
// tests), so the count adds every test file of the repository that is missing from the report,
// and the console's own "N fail" when it is higher. It says how many PostgreSQL and browser
// tests ran and were skipped, and ends with "N passed, N failed, N skipped" alone on the last
// line. Exits 1 when something failed that the test runner's exit code might not show.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";

const [reportFile, logFile] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

const xml = readFileSync(reportFile, "utf8");
const parsed = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: "",
  isArray: (name) => name === "testsuite" || name === "testcase",
}).parse(xml);
const top = parsed.testsuites;
if (!top) {
  console.error("junit-summary: no <testsuites> in the report");
  process.exit(1);
}

/** Every test case with the file it is in and the names of the suites around it. */
function* cases(suite, file, names) {
  for (const test of suite.testcase ?? []) yield { file, path: [...names, test.name].join(" > "), test };
  for (const inner of suite.testsuite ?? []) yield* cases(inner, inner.file ?? file, [...names, inner.name]);
}
const all = [];
const reported = new Set();
for (const fileSuite of top.testsuite ?? []) {
  reported.add(path.normalize(fileSuite.file ?? fileSuite.name));
  for (const c of cases(fileSuite, fileSuite.file ?? fileSuite.name, [])) all.push(c);
}
const skippedCase = (c) => c.test.skipped !== undefined || c.test.todo !== undefined;
const failedCase = (c) => c.test.failure !== undefined || c.test.error !== undefined;

// Test files as bun finds them: *.test|_test|.spec|_spec with a JS/TS extension, outside node_modules.
const TEST_FILE = /(\.test|_test|\.spec|_spec)\.(c|m)?(j|t)sx?$/;
function testFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) testFiles(full, out);
    else if (TEST_FILE.test(entry.name)) out.push(path.relative(root, full));
  }
  return out;
}
const notLoaded = testFiles(root).filter((file) => !reported.has(path.normalize(file))).sort();

// The console's own summary (" 12 pass", " 3 skip", " 2 fail", " 1 error"), when given.
const log = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").replace(/\x1b\[[0-9;]*m/g, "") : "";
const consoleCount = (word) => {
  const matches = [...log.matchAll(new RegExp(`^\\s*(\\d+) ${word}s?\\s*$`, "gm"))];
  return matches.length > 0 ? Number(matches[matches.length - 1][1]) : undefined;
};
const consoleFail = consoleCount("fail");
const consoleErrors = consoleCount("error");

const passedCount = all.filter((c) => !skippedCase(c) && !failedCase(c)).length;
const skippedCount = all.filter(skippedCase).length;
const failedInReport = all.filter(failedCase).length;
// A file that did not load is one failure (as bun counts it); the console's count also holds errors between tests.
const failedCount = Math.max(failedInReport + notLoaded.length, consoleFail ?? 0);

// PostgreSQL tests: test/pg, test files named for it, and every suite or test naming it.
const isPostgres = (c) => /(^|\/)pg\//.test(c.file) || /postgres/i.test(c.file) || /\bpostgres(ql)?\b/i.test(c.path);
// Browser tests: suites driving headless Chromium, and the files that hold them (a failed beforeAll is "(unnamed)").
const isBrowser = (c) => /\b(chromium|browser)\b/i.test(c.path) || /(dashboard\.e2e|chromium)/i.test(c.file);
const describeGroup = (name, pick) => {
  const group = all.filter(pick);
  const skipped = group.filter(skippedCase).length;
  const failed = group.filter(failedCase).length;
  return `${name}: ${group.length - skipped} ran (${failed} failed), ${skipped} skipped`;
};

if (notLoaded.length > 0) {
  console.log(`test files that failed to load (absent from the JUnit report, each counted as one failure): ${notLoaded.join(", ")}`);
}
if (consoleErrors) console.log(`errors outside tests reported by the test runner: ${consoleErrors}`);
console.log(describeGroup("PostgreSQL tests", isPostgres));
console.log(describeGroup("browser tests", isBrowser));
console.log(`${passedCount} passed, ${failedCount} failed, ${skippedCount} skipped`);
process.exit(failedCount > 0 ? 1 : 0);
