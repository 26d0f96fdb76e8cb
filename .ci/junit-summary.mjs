// Prints "N passed, N failed, N skipped" from bun's JUnit report (its root <testsuites> counts).
import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";

const xml = readFileSync(process.argv[2], "utf8");
const root = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml).testsuites;
if (!root) {
  console.error("junit-summary: no <testsuites> in the report");
  process.exit(1);
}
const tests = Number(root.tests), failures = Number(root.failures), skipped = Number(root.skipped ?? 0);
console.log(`${tests - failures - skipped} passed, ${failures} failed, ${skipped} skipped`);
