/**
 * The SPQR session state: braid (state machine) + chain (keys) + whether a message was received
 * yet (libsignal keeps "version negotiation" until the first receive; with SPQR mandatory it
 * only changes the text of the empty-`pq_ratchet` error). shared/specs/signal-wire.md §3.4.
 *
 * `SpqrState` is an immutable value: `spqrSend` / `spqrRecv` return new states sharing unchanged
 * parts with the old one, so the Double Ratchet can drop a candidate state when its MAC fails.
 * It never prints secrets (`toJSON` and `util.inspect` show the epoch and braid state only).
 */
import type { BraidState, BraidStateKind } from './braid.js';
import type { Chain, SpqrDirection } from './chain.js';

export interface SpqrStateData {
  readonly direction: SpqrDirection;
  readonly braid: BraidState;
  readonly chain: Chain;
  /** A message was received (spqr clears `version_negotiation` then). */
  readonly received: boolean;
}

export class SpqrState {
  /** @internal Only the spqr modules read this. */
  readonly data: SpqrStateData;

  /** @internal Use `spqrInitialState` or `deserializeSpqrState`. */
  constructor(data: SpqrStateData) {
    this.data = data;
    Object.freeze(this);
  }

  /** Our direction (A2B for the session initiator). */
  get direction(): SpqrDirection {
    return this.data.direction;
  }

  /** The braid's current epoch (starts at 1). */
  get epoch(): number {
    return this.data.braid.epoch;
  }

  /** The braid's state name (for diagnostics and tests). */
  get braidState(): BraidStateKind {
    return this.data.braid.kind;
  }

  toJSON(): unknown {
    return {
      type: 'SpqrState',
      direction: this.direction,
      epoch: this.epoch,
      braid: this.braidState,
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SpqrState { direction: ${this.direction}, epoch: ${this.epoch}, braid: ${this.braidState} }`;
  }
}
