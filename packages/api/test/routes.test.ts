// The route table is the contract: every body schema is strict, optional fields are not required,
// every route answers JSON or bytes as declared, and paths are unique.
import { describe, expect, it } from 'vitest';
import { routes, t, type RouteSpec } from '../src/index.js';

function walkObjects(schema: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s['type'] === 'object') visit(s);
  for (const v of Object.values(s)) walkObjects(v, visit);
}

describe('schema builder', () => {
  it('marks optional properties as not required and objects as strict', () => {
    const s = t.object({ a: t.boolean(), b: t.optional(t.boolean()) });
    expect(s['required']).toEqual(['a']);
    expect(s['additionalProperties']).toBe(false);
    const inner = t.boolean();
    t.optional(inner);
    expect(t.object({ x: inner })['required']).toEqual(['x']);
  });

  it('bounds base64 byte strings by their encoded length', () => {
    expect(t.bytes(33, 33)).toMatchObject({ minLength: 44, maxLength: 44 });
    expect(t.base64Url(32)).toMatchObject({ minLength: 43, maxLength: 43 });
  });
});

describe('route table', () => {
  const all = Object.entries(routes) as [string, RouteSpec][];

  it('has unique method+path pairs under /v1', () => {
    const keys = all.map(([, r]) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [, r] of all) expect(r.url.startsWith('/v1/')).toBe(true);
  });

  it('rejects unknown fields in every body, parameter and response object', () => {
    for (const [name, r] of all) {
      for (const schema of [r.body, r.params, ...Object.values(r.response)]) {
        walkObjects(schema, (o) => expect(o['additionalProperties'], name).toBe(false));
      }
    }
  });

  it('declares only bodies on methods that carry one', () => {
    for (const [name, r] of all) {
      if (r.body !== undefined) expect(['POST', 'PUT'], name).toContain(r.method);
    }
  });
});
