import { XMLParser } from "fast-xml-parser";
import type { TestCounts, TestFailure } from "../src/watchdog/tests-report.ts";

export type { TestCounts, TestFailure };

export interface JUnitSummary {
  counts: TestCounts;
  failures: TestFailure[];
}

type Attrs = Record<string, unknown>;
interface XmlNode extends Attrs {
  testsuite?: XmlNode[];
  testcase?: XmlNode[];
  failure?: (XmlNode | string)[];
  error?: (XmlNode | string)[];
  skipped?: unknown[];
}

const MAX_MESSAGE = 4_000;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  htmlEntities: true,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === "testsuite" || name === "testcase" || name === "failure" || name === "error" || name === "skipped",
});

/**
 * Counts the test cases of a JUnit XML report (as `bun test --reporter=junit`, Jest, Vitest,
 * pytest and most runners write it), nested suites included. Throws when it is not one.
 */
export function parseJUnit(xml: string): JUnitSummary {
  const doc = parser.parse(xml) as { testsuites?: XmlNode | ""; testsuite?: XmlNode[] };
  const roots = doc.testsuites !== undefined ? [doc.testsuites === "" ? {} : doc.testsuites] : doc.testsuite;
  if (!roots) throw new Error("not a JUnit report (no <testsuites> or <testsuite> element)");
  const summary: JUnitSummary = { counts: { tests: 0, passed: 0, failed: 0, skipped: 0 }, failures: [] };
  for (const root of roots) walk(root, null, summary);
  return summary;
}

function walk(suite: XmlNode, file: string | null, into: JUnitSummary): void {
  const suiteFile = attr(suite, "file") ?? file;
  for (const test of suite.testcase ?? []) {
    into.counts.tests++;
    const problem = test.failure?.[0] ?? test.error?.[0];
    if (problem !== undefined) {
      into.counts.failed++;
      const classname = attr(test, "classname");
      const name = attr(test, "name") ?? "(unnamed test)";
      into.failures.push({ name: classname ? `${classname} > ${name}` : name, file: attr(test, "file") ?? suiteFile, message: messageOf(problem) });
    } else if (test.skipped !== undefined) {
      into.counts.skipped++;
    } else {
      into.counts.passed++;
    }
  }
  for (const child of suite.testsuite ?? []) walk(child, suiteFile, into);
}

function attr(node: XmlNode, name: string): string | null {
  const value = node[`@_${name}`];
  return typeof value === "string" && value !== "" ? value : null;
}

/** The failure's body (usually message and stack), else its `message` attribute. */
function messageOf(problem: XmlNode | string): string {
  const body = typeof problem === "string" ? problem : String(problem["#text"] ?? "");
  const text = body.trim() || (typeof problem === "string" ? "" : attr(problem, "message") ?? "") || "(no message)";
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
