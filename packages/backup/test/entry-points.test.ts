// The main entry runs in browsers (ARCHITECTURE.md; brief): nothing reachable from src/index.ts
// imports `node:*`, test helpers or anything beyond @sotto/crypto and @serenity-kit/opaque. The
// Node-only adapter is reachable from src/node.ts alone. Checked on the import graph of the source.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

function graph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(spec);
    }
  };
  visit(join(SRC, entry));
  return { files, bare };
}

function allSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? allSources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('entry points', () => {
  it('the main entry reaches no node: module and no test helper', () => {
    const { files, bare } = graph('index.ts');
    expect([...bare].sort()).toEqual(['@serenity-kit/opaque', '@sotto/crypto']);
    const names = [...files].map((f) => relative(SRC, f));
    expect(
      names.filter(
        (n) => n.startsWith('testing/') || n === 'node.ts' || n.includes('local-directory'),
      ),
    ).toEqual([]);
    expect(names).toContain('vault/key-vault.ts');
  });

  it('only the local-directory adapter (behind ./node) imports node: modules', () => {
    const importers = allSources(SRC)
      .filter((f) =>
        [...readFileSync(f, 'utf8').matchAll(IMPORT)].some((m) =>
          (m[1] ?? m[2] ?? m[3]!).startsWith('node:'),
        ),
      )
      .map((f) => relative(SRC, f));
    expect(importers).toEqual(['storage/local-directory.ts']);
    expect([...graph('node.ts').files].map((f) => relative(SRC, f))).toContain(
      'storage/local-directory.ts',
    );
  });

  it('package.json exports ., ./node and ./testing', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './node', './testing']);
  });
});
