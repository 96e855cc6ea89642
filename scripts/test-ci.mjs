#!/usr/bin/env node
// The README's test command: static checks (import rules, types, lint, format) and then every
// Vitest suite. Each static check counts as one test in the final line, so a red check can never
// hide behind green unit tests. Ends with the plain line `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
let passed = 0;
let failed = 0;
let skipped = 0;

function step(name, cmd, args) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status === 0) {
    passed += 1;
    console.log(`=== ${name}: ok`);
  } else {
    failed += 1;
    console.log(`=== ${name}: FAILED (exit ${r.status ?? r.signal})`);
  }
}

const only = process.argv.includes('--tests-only');
if (!only) {
  step('import rules', process.execPath, ['scripts/check-imports.mjs']);
  step('typecheck', npx, ['tsc', '-b']);
  step('lint', npx, ['eslint', '.']);
  step('format', npx, ['prettier', '--check', '.']);
}

const report = '.vitest-report.json';
rmSync(report, { force: true });
console.log('\n=== vitest');
const v = spawnSync(
  npx,
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
  { stdio: 'inherit' },
);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  // A suite that fails to load has no tests to count; count it as a failure.
  for (const s of r.testResults)
    if (s.status === 'failed' && s.assertionResults.length === 0) failed += 1;
} catch (e) {
  console.log(`vitest produced no report (exit ${v.status}): ${String(e)}`);
  failed += 1;
}
if (v.status !== 0 && failed === 0) failed += 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
