import { describe, expect, it } from 'vitest';
import * as crypto from '@sotto/crypto';
describe('workspace', () => {
  it('resolves @sotto/crypto to source', () => {
    expect(typeof crypto).toBe('object');
  });
});
