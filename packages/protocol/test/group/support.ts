/**
 * Test helpers shared by the group, sealed-sender and fingerprint tests: a seeded RNG (SHA-512 in
 * counter mode, via node:crypto so it is independent of the code under test) and addresses.
 */
import { createHash } from 'node:crypto';
import type { Rng } from '../../src/rng.js';

/** A reproducible RNG: SHA-512(seed ‖ counter) blocks. */
export function seededRng(seed: string | number): Rng {
  let counter = 0;
  let block = new Uint8Array(0);
  let pos = 0;
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      if (pos === block.length) {
        block = createHash('sha512').update(`${seed}/${counter++}`).digest();
        pos = 0;
      }
      out[i] = block[pos++]!;
    }
    return out;
  };
}

export const ALICE = { name: 'a1b2c3d4-0000-4000-8000-00000000000a', deviceId: 1 } as const;
export const BOB = { name: 'a1b2c3d4-0000-4000-8000-00000000000b', deviceId: 2 } as const;
export const CAROL = { name: 'a1b2c3d4-0000-4000-8000-00000000000c', deviceId: 1 } as const;
export const DISTRIBUTION_ID = 'd1d1d1d1-7000-11eb-b32a-33b8a8a487a6';

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}
