// Reads the vitest JSON report of each test pass and prints one line per pass, then the plain summed
// line CI reads last: "N passed, N failed, N skipped".
// Usage: node .ci/summary.mjs <label>=<report.json> ...
import { existsSync, readFileSync } from 'node:fs';

function count(file) {
  // A pass that wrote no report (it crashed or never started) counts as one failure.
  if (!existsSync(file)) return { passed: 0, failed: 1, skipped: 0, note: 'no report' };
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // A file that fails outside its tests (a hook, an import) counts as one failure.
  const brokenFiles = report.testResults.filter(
    (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
  ).length;
  const skipped = report.testResults
    .filter((f) => f.status !== 'failed')
    .flatMap((f) => f.assertionResults)
    .filter((a) => a.status === 'skipped' || a.status === 'pending' || a.status === 'todo').length;
  const failed = report.numFailedTests + brokenFiles;
  // A run that vitest marks failed with no failed test (no test files found, say) counts as one failure.
  if (failed === 0 && report.success === false) {
    return { passed: report.numPassedTests, failed: 1, skipped, note: 'the run failed' };
  }
  return { passed: report.numPassedTests, failed, skipped };
}

const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
const total = { passed: 0, failed: 0, skipped: 0 };
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf('=');
  const [label, file] = [arg.slice(0, at), arg.slice(at + 1)];
  let c;
  try {
    c = count(file);
  } catch (err) {
    c = { passed: 0, failed: 1, skipped: 0, note: `unreadable report: ${err.message}` };
  }
  console.log(`${label}: ${line(c)}${c.note ? ` (${c.note})` : ''}`);
  for (const key of Object.keys(total)) total[key] += c[key];
}
console.log(line(total));
