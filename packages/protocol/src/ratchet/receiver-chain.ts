/**
 * One receiver chain (shared/specs/signal-wire.md §3.2): the peer's ratchet public key, the next
 * chain key and the skipped keys of this chain. `seedFor(counter)` returns the message-key seed
 * for `counter` and the chain as it will be once that message has been accepted, without
 * changing this one:
 * - `counter` behind the chain: the stored skipped seed, or `DUPLICATE_MESSAGE`;
 * - `counter` ahead by more than `maxForwardJumps`: `MESSAGE_GAP_TOO_LARGE`;
 * - otherwise the chain is stepped to `counter`, storing the seeds passed over (only the newest
 *   `MAX_MESSAGE_KEYS` survive, so older ones are not even computed).
 */
import { ProtocolError } from '../errors.js';
import type { PublicKey } from '../keys/curve.js';
import { MAX_MESSAGE_KEYS } from '../limits.js';
import type { ChainKey } from './chain-key.js';
import { SkippedKeys } from './skipped-keys.js';

export class ReceiverChain {
  constructor(
    readonly ratchetKey: PublicKey,
    readonly chainKey: ChainKey,
    readonly skipped: SkippedKeys = SkippedKeys.EMPTY,
  ) {}

  seedFor(counter: number, maxForwardJumps: number): { seed: Uint8Array; chain: ReceiverChain } {
    let chainKey = this.chainKey;
    if (counter < chainKey.index) {
      const seed = this.skipped.get(counter);
      if (seed === undefined) {
        throw new ProtocolError(
          'DUPLICATE_MESSAGE',
          `message ${counter} was already received (chain is at ${chainKey.index})`,
        );
      }
      return {
        seed,
        chain: new ReceiverChain(this.ratchetKey, chainKey, this.skipped.without(counter)),
      };
    }
    const jump = counter - chainKey.index;
    if (jump > maxForwardJumps) {
      throw new ProtocolError(
        'MESSAGE_GAP_TOO_LARGE',
        `message ${counter} is ${jump} ahead of the chain (limit ${maxForwardJumps})`,
      );
    }
    let skipped = this.skipped;
    if (jump > 0) {
      const keepFrom = counter - MAX_MESSAGE_KEYS;
      const entries: [number, Uint8Array][] = [];
      while (chainKey.index < counter) {
        if (chainKey.index >= keepFrom) entries.push([chainKey.index, chainKey.messageSeed()]);
        chainKey = chainKey.next();
      }
      skipped = skipped.with(entries);
    }
    const seed = chainKey.messageSeed();
    return { seed, chain: new ReceiverChain(this.ratchetKey, chainKey.next(), skipped) };
  }
}
