#!/usr/bin/env node
// Enforces the dependency rules of ARCHITECTURE.md ("Packages and the direction of dependencies")
// on both package.json dependencies and the import specifiers found in each package's src/.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const DRIVERS = ['better-sqlite3', 'pg', 'ioredis', 'redis', 'mysql2'];
// Which bare specifiers each workspace may import from its src/. `true` = anything not denied.
const RULES = {
  'packages/crypto': { allow: [/^@noble\//, /^node:crypto$/] },
  'packages/protocol': { allow: [/^@sotto\/crypto$/] },
  'packages/api': { allow: [] },
  'packages/server': {
    deny: [/^@sotto\/(protocol|client|crypto)$/, ...DRIVERS.map((d) => new RegExp(`^${d}$`))],
  },
  'packages/backup': {
    deny: [/^@sotto\/(protocol|server)$/, ...DRIVERS.map((d) => new RegExp(`^${d}$`))],
  },
  'packages/client': { deny: [/^@sotto\/server$/, ...DRIVERS.map((d) => new RegExp(`^${d}$`))] },
  // The key vault service: OPAQUE through @sotto/backup, HTTP through Fastify; never the protocol,
  // the client SDK or the relay (it runs inside the relay only as a plugin the app mounts).
  'packages/vault': {
    deny: [/^@sotto\/(protocol|client|server)$/, ...DRIVERS.map((d) => new RegExp(`^${d}$`))],
  },
};
// Server-side adapters (storage, fan-out) never see protocol or client code; client-store adapters
// implement the client's port and may import @sotto/client, but never the server.
const SERVER_ADAPTER_DENY = [/^@sotto\/(protocol|client)$/];
const CLIENT_ADAPTER_DENY = [/^@sotto\/server$/];
const APP_DENY = DRIVERS.map((d) => new RegExp(`^${d}$`));

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) yield p;
  }
}
const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
function bare(spec) {
  if (spec.startsWith('.') || spec.startsWith('/')) return null;
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const problems = [];
function check(ws, allowed, denied) {
  const pkg = JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8'));
  const deps = Object.keys(pkg.dependencies ?? {});
  const ok = (name) =>
    (allowed ? allowed.some((r) => r.test(name)) : true) &&
    !(denied ?? []).some((r) => r.test(name));
  for (const d of deps)
    if (!ok(d)) problems.push(`${ws}/package.json: dependency ${d} is not allowed`);
  for (const f of files(join(ws, 'src'))) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const name = bare(spec);
      if (name === null) continue;
      const full = spec.startsWith('node:') ? spec : name;
      // Subpath imports of an allowed package (e.g. @noble/curves/ed25519.js) are fine.
      if (!ok(full) && !ok(spec)) problems.push(`${f}: import '${spec}' is not allowed here`);
    }
  }
}

for (const [ws, rule] of Object.entries(RULES)) {
  if (existsSync(join(ws, 'package.json'))) check(ws, rule.allow, rule.deny);
}
for (const group of ['adapters', 'apps']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const ws = join(group, name);
    if (!existsSync(join(ws, 'package.json'))) continue;
    if (group === 'adapters')
      check(ws, null, name.startsWith('client-store-') ? CLIENT_ADAPTER_DENY : SERVER_ADAPTER_DENY);
    else check(ws, null, APP_DENY);
  }
}
// Drivers appear only in adapters.
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const pj = join(group, name, 'package.json');
    if (!existsSync(pj)) continue;
    const deps = Object.keys(JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {});
    for (const d of deps)
      if (DRIVERS.includes(d)) problems.push(`${pj}: driver ${d} belongs in an adapter`);
  }
}
// The interop oracle is AGPL: never a runtime dependency of anything.
for (const group of ['packages', 'adapters', 'apps']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const pj = join(group, name, 'package.json');
    if (!existsSync(pj)) continue;
    const deps = Object.keys(JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {});
    if (deps.includes('@signalapp/libsignal-client'))
      problems.push(`${pj}: libsignal-client is dev-only`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('import rules: ok');
