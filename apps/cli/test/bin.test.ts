// The `bin` entry: package.json names the file tsc emits for src/main.ts, that source starts with
// a shebang, and the emitted file runs (CI type-checks with `tsc -b` before the tests).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const APP = fileURLToPath(new URL('..', import.meta.url));

describe('the sotto executable', () => {
  it('is declared as bin "sotto" and points at the compiled src/main.ts', () => {
    const pkg = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ sotto: './dist/src/main.js' });
    const tsconfig = JSON.parse(readFileSync(join(APP, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: '.', outDir: 'dist' });
    expect(readFileSync(join(APP, 'src/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    );
  });

  it('runs from dist (build first: npx tsc -b apps/cli)', () => {
    const main = join(APP, 'dist/src/main.js');
    expect(existsSync(main), `${main} is missing: run npx tsc -b apps/cli`).toBe(true);
    const home = mkdtempSync(join(tmpdir(), 'sotto-bin-'));
    try {
      const version = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
      expect(version.status).toBe(0);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      // A real command through the compiled SDK and store adapter: no profile yet.
      const status = spawnSync(process.execPath, [main, 'status'], {
        encoding: 'utf8',
        env: { ...process.env, HOME: home, SOTTO_PROFILE: '', SOTTO_PASSPHRASE: 'x'.repeat(12) },
      });
      expect(status.status).toBe(1);
      expect(status.stderr).toBe(
        `sotto: no profile in ${home}/.sotto: run "sotto register <number>" first (or pass --profile)\n`,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
