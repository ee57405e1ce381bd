// Prints one closing line for a vitest JSON report, "<label>: N passed, N failed, N skipped",
// and fails when the report ran no test at all.
import { readFileSync } from "node:fs";

const [file, label = "tests"] = process.argv.slice(2);
if (!file) throw new Error("usage: test-summary.ts <vitest-json-report> [label]");
const report = JSON.parse(readFileSync(file, "utf8")) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
};
console.log(`${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
if (report.numPassedTests === 0 || report.numFailedTests > 0) process.exit(1);
