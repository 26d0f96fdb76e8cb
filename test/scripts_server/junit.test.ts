import { describe, expect, test } from "bun:test";
import { parseJUnit } from "../../scripts_server/junit.ts";

describe("parseJUnit", () => {
  test("a lone <testsuite> (pytest, Maven): failures, errors and skips counted", () => {
    const xml = `<?xml version="1.0"?>
<testsuite name="pytest" tests="4">
  <testcase classname="tests.test_a" name="test_ok" time="0.1"/>
  <testcase classname="tests.test_a" name="test_bad"><failure message="assert 1 == 2">def test_bad():\n&gt;  assert 1 == 2</failure></testcase>
  <testcase classname="tests.test_b" name="test_crash"><error message="ZeroDivisionError"/></testcase>
  <testcase classname="tests.test_b" name="test_later"><skipped message="todo"/></testcase>
</testsuite>`;
    const { counts, failures } = parseJUnit(xml);
    expect(counts).toEqual({ tests: 4, passed: 1, failed: 2, skipped: 1 });
    expect(failures).toEqual([
      { name: "tests.test_a > test_bad", file: null, message: "def test_bad():\n>  assert 1 == 2" },
      { name: "tests.test_b > test_crash", file: null, message: "ZeroDivisionError" },
    ]);
  });

  test("nested suites inherit the file; an empty report has no tests", () => {
    const xml = `<testsuites><testsuite name="a.test.ts" file="a.test.ts"><testsuite name="group"><testcase name="x" classname="group"/></testsuite></testsuite></testsuites>`;
    expect(parseJUnit(xml).counts).toEqual({ tests: 1, passed: 1, failed: 0, skipped: 0 });
    expect(parseJUnit("<testsuites></testsuites>").counts.tests).toBe(0);
  });

  test("not a JUnit report", () => {
    expect(() => parseJUnit("<html><body>oops</body></html>")).toThrow("not a JUnit report");
  });
});
