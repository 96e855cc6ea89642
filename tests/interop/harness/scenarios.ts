/**
 * Traffic scenarios shared by the 1:1 interop suites: ping-pong, held-back messages, receiver
 * chain churn. Each runs on any pair of `Peer`s, so the same scenario is played Sotto⇄libsignal
 * and libsignal⇄libsignal and the outcomes are compared.
 */
import { expect } from 'vitest';
import { str, text, type Outcome, type Peer, type Wire } from './peers.js';
import { spqrHeader } from './wire-edit.js';

/** Sends `message` from `from` to `to` and expects it to decrypt to the same text. */
export async function deliver(from: Peer, to: Peer, message: string): Promise<Wire> {
  const wire = await from.encrypt(to.address, text(message));
  expect(str(await to.decrypt(from.address, wire))).toBe(message);
  return wire;
}

/**
 * `rounds` round trips a→b, b→a (the first a→b is the PreKey message). Returns the highest SPQR
 * epoch seen in each direction.
 */
export async function pingPong(
  a: Peer,
  b: Peer,
  rounds: number,
): Promise<{ aEpoch: number; bEpoch: number }> {
  let aEpoch = 0;
  let bEpoch = 0;
  for (let i = 0; i < rounds; i++) {
    const w1 = await deliver(a, b, `a→b ${i}`);
    aEpoch = Math.max(aEpoch, spqrHeader(w1).epoch);
    const w2 = await deliver(b, a, `b→a ${i}`);
    bEpoch = Math.max(bEpoch, spqrHeader(w2).epoch);
  }
  return { aEpoch, bEpoch };
}

/** Compact form of outcomes for comparing implementations. */
export function summary(outcomes: readonly Outcome[]): string {
  return outcomes.map((o) => (o.ok ? 'ok' : 'x')).join(' ');
}
