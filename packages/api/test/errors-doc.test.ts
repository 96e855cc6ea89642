// docs/errors.md is the human mirror of the registry (CONVENTIONS.md "Errors"): same codes, same
// statuses, same meanings, in both directions.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_ERRORS, API_ERROR_CODES, ApiError, isApiErrorCode, statusOf } from '../src/index.js';

const doc = readFileSync(
  fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)),
  'utf8',
);

function documentedRows(): Map<string, { status: number; meaning: string }> {
  const rows = new Map<string, { status: number; meaning: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(.+?)\s*\|$/.exec(line.trim());
    if (m === null) continue;
    if (rows.has(m[1]!)) throw new Error(`documented twice: ${m[1]}`);
    rows.set(m[1]!, { status: Number(m[2]), meaning: m[3]! });
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('documents every registered code with its status and meaning', () => {
    const rows = documentedRows();
    for (const code of API_ERROR_CODES) {
      expect(rows.get(code), code).toEqual({
        status: API_ERRORS[code][0],
        meaning: API_ERRORS[code][1],
      });
    }
  });

  it('documents no code that is not registered', () => {
    for (const code of documentedRows().keys()) expect(isApiErrorCode(code), code).toBe(true);
    expect(documentedRows().size).toBe(API_ERROR_CODES.length);
  });
});

describe('registry', () => {
  it('uses error statuses only and SCREAMING_SNAKE codes', () => {
    for (const code of API_ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
      expect(statusOf(code)).toBeGreaterThanOrEqual(400);
      expect(statusOf(code)).toBeLessThan(600);
    }
  });

  it('gives the answers the contract promises for device-list conflicts', () => {
    expect(statusOf('MISMATCHED_DEVICES')).toBe(409);
    expect(statusOf('STALE_DEVICES')).toBe(410);
    expect(statusOf('RATE_LIMITED')).toBe(429);
  });

  it('ApiError carries code, status and details, and is() narrows by code', () => {
    const err = new ApiError('STALE_DEVICES', undefined, { details: { staleDevices: [2] } });
    expect(err.status).toBe(410);
    expect(err.message).toBe(API_ERRORS.STALE_DEVICES[1]);
    expect(err.toBody()).toEqual({
      error: {
        code: 'STALE_DEVICES',
        message: API_ERRORS.STALE_DEVICES[1],
        details: { staleDevices: [2] },
      },
    });
    expect(ApiError.is(err, 'STALE_DEVICES')).toBe(true);
    expect(ApiError.is(err, 'MISMATCHED_DEVICES')).toBe(false);
    expect(ApiError.is(new Error('x'))).toBe(false);
    expect(isApiErrorCode('toString')).toBe(false);
  });
});
