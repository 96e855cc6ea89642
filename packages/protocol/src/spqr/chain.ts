/**
 * SPQR's symmetric key chain (shared/specs/signal-wire.md §3.4 "Chain"; spqr `chain.rs`): one
 * pair of KDF chains (A2B, B2A) per epoch, rooted in the PQXDH `PQR` key and re-keyed by every
 * epoch secret the braid produces. Its per-message keys are the salt of the Double Ratchet's
 * `WhisperMessageKeys` HKDF.
 *
 * - `new(PQR)`: `g = HKDF(salt 0³², PQR, "Signal PQ Ratchet V1 Chain  Start" (two spaces), 96)`;
 *   `nextRoot = g[0..32]`, `A2B = g[32..64]`, `B2A = g[64..96]`. Epoch 0.
 * - `addEpoch(e, s)`: `g = HKDF(salt = nextRoot, s, "Signal PQ Ratchet V1 Chain Add Epoch", 96)`,
 *   split the same way; `e` must be `current + 1`.
 * - next key: `ctr += 1`; `g = HKDF(salt 0³², next, be32(ctr) ‖ "Signal PQ Ratchet V1 Chain Next",
 *   64)`; `next = g[0..32]`, key = `g[32..64]`. Indices start at 1.
 * - `sendKey(e)`: send epochs never decrease; when it moves on, only one epoch before it is kept
 *   and the send halves of older epochs are erased.
 * - `recvKey(e, i)`: `i − ctr > maxJump` ⇒ KeyJump; skipped keys kept down to `ctr − maxOooKeys`
 *   (older ⇒ KeyTrimmed); a key handed out once ⇒ KeyAlreadyRequested.
 *
 * Values are immutable; every operation returns a new chain sharing unchanged parts.
 */
import { hkdfSha256 } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import { SPQR_MAX_JUMP, SPQR_MAX_OOO_KEYS } from '../limits.js';
import {
  NO_SKIPPED_KEYS,
  appendSkippedKeys,
  dropSkippedKeysBelow,
  takeSkippedKey,
  type SkippedKeys,
} from './skipped-keys.js';

export type SpqrDirection = 'A2B' | 'B2A';

const encoder = new TextEncoder();
const START_LABEL = encoder.encode('Signal PQ Ratchet V1 Chain  Start');
const ADD_EPOCH_LABEL = encoder.encode('Signal PQ Ratchet V1 Chain Add Epoch');
const NEXT_LABEL = encoder.encode('Signal PQ Ratchet V1 Chain Next');
const ZERO_SALT = new Uint8Array(32);
/** Epochs kept before the current send epoch (spqr `EPOCHS_TO_KEEP_PRIOR_TO_SEND_EPOCH`). */
const EPOCHS_KEPT_BEFORE_SEND_EPOCH = 1;
const U32_MAX = 0xffff_ffff;

/** One direction of one epoch. `next` is null once the send half of an old epoch is erased. */
export interface DirectionChain {
  readonly ctr: number;
  readonly next: Uint8Array | null;
  readonly skipped: SkippedKeys;
}

export interface ChainEpoch {
  readonly send: DirectionChain;
  readonly recv: DirectionChain;
}

export interface Chain {
  readonly direction: SpqrDirection;
  readonly currentEpoch: number;
  readonly sendEpoch: number;
  /** Epochs `currentEpoch − links.length + 1 … currentEpoch`. */
  readonly links: readonly ChainEpoch[];
  readonly nextRoot: Uint8Array;
  readonly maxJump: number;
  readonly maxOooKeys: number;
}

export interface ChainParams {
  readonly maxJump?: number;
  readonly maxOooKeys?: number;
}

function fail(message: string): never {
  throw new ProtocolError('PQ_RATCHET', message);
}

function epochLinks(g: Uint8Array, direction: SpqrDirection): ChainEpoch {
  const a2b = g.slice(32, 64);
  const b2a = g.slice(64, 96);
  return {
    send: { ctr: 0, next: direction === 'A2B' ? a2b : b2a, skipped: NO_SKIPPED_KEYS },
    recv: { ctr: 0, next: direction === 'A2B' ? b2a : a2b, skipped: NO_SKIPPED_KEYS },
  };
}

function checkLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > U32_MAX) {
    throw new ProtocolError('INVALID_STATE', `${name} must be an integer in [1, 2^32 − 1]`);
  }
  return value;
}

/** The chain at epoch 0 for `authKey` (the PQXDH `PQR` key). */
export function createChain(
  authKey: Uint8Array,
  direction: SpqrDirection,
  params: ChainParams = {},
): Chain {
  const g = hkdfSha256(authKey, ZERO_SALT, START_LABEL, 96);
  const chain: Chain = {
    direction,
    currentEpoch: 0,
    sendEpoch: 0,
    links: [epochLinks(g, direction)],
    nextRoot: g.slice(0, 32),
    maxJump: checkLimit(params.maxJump, SPQR_MAX_JUMP, 'maxJump'),
    maxOooKeys: checkLimit(params.maxOooKeys, SPQR_MAX_OOO_KEYS, 'maxOooKeys'),
  };
  g.fill(0);
  return chain;
}

/** Mixes the epoch secret of `epoch` (= current + 1) into the chain. */
export function addEpoch(chain: Chain, epoch: number, secret: Uint8Array): Chain {
  if (epoch !== chain.currentEpoch + 1) {
    fail(`epoch secret for epoch ${epoch} does not follow epoch ${chain.currentEpoch}`);
  }
  const g = hkdfSha256(secret, chain.nextRoot, ADD_EPOCH_LABEL, 96);
  const next: Chain = {
    ...chain,
    currentEpoch: epoch,
    nextRoot: g.slice(0, 32),
    links: [...chain.links, epochLinks(g, chain.direction)],
  };
  g.fill(0);
  return next;
}

const nextInfo = new Uint8Array(4 + NEXT_LABEL.length);
nextInfo.set(NEXT_LABEL, 4);

/** One KDF step from `next` to index `ctr`: returns the 64-byte `next' ‖ key` block. */
function step(next: Uint8Array, ctr: number): Uint8Array {
  nextInfo[0] = ctr >>> 24;
  nextInfo[1] = ctr >>> 16;
  nextInfo[2] = ctr >>> 8;
  nextInfo[3] = ctr;
  return hkdfSha256(next, ZERO_SALT, nextInfo, 64);
}

/** `chain` with new links (and send epoch); a literal, so every chain shares one shape. */
function withLinks(chain: Chain, links: readonly ChainEpoch[], sendEpoch: number): Chain {
  return {
    direction: chain.direction,
    currentEpoch: chain.currentEpoch,
    sendEpoch,
    links,
    nextRoot: chain.nextRoot,
    maxJump: chain.maxJump,
    maxOooKeys: chain.maxOooKeys,
  };
}

function linkIndex(chain: Chain, epoch: number): number {
  if (epoch > chain.currentEpoch) fail(`epoch ${epoch} is out of range`);
  const back = chain.currentEpoch - epoch;
  if (back >= chain.links.length) fail(`epoch ${epoch} is out of range`);
  return chain.links.length - 1 - back;
}

/** The next sending key for `epoch`: its index (from 1) and the key. */
export function sendKey(
  chain: Chain,
  epoch: number,
): { chain: Chain; index: number; key: Uint8Array } {
  if (epoch < chain.sendEpoch) {
    fail(`send key epoch decreased (${chain.sendEpoch} -> ${epoch})`);
  }
  let at = linkIndex(chain, epoch);
  let links = chain.links;
  if (epoch !== chain.sendEpoch) {
    if (at > EPOCHS_KEPT_BEFORE_SEND_EPOCH) {
      links = links.slice(at - EPOCHS_KEPT_BEFORE_SEND_EPOCH);
      at = EPOCHS_KEPT_BEFORE_SEND_EPOCH;
    }
    // Older epochs can never send again: erase their send halves.
    if (at > 0) {
      links = links.map((link, i) =>
        i < at && link.send.next !== null ? { ...link, send: { ...link.send, next: null } } : link,
      );
    }
  }
  const link = links[at]!;
  const { next, ctr } = link.send;
  if (next === null || ctr >= U32_MAX) fail('send chain is not available');
  const g = step(next, ctr + 1);
  const updated = links.slice();
  updated[at] = {
    send: { ctr: ctr + 1, next: g.slice(0, 32), skipped: link.send.skipped },
    recv: link.recv,
  };
  const key = g.slice(32, 64);
  g.fill(0);
  return { chain: withLinks(chain, updated, epoch), index: ctr + 1, key };
}

/** The receiving key of `index` in `epoch`, with the chain that no longer holds it. */
export function recvKey(
  chain: Chain,
  epoch: number,
  index: number,
): { chain: Chain; key: Uint8Array } {
  const at = linkIndex(chain, epoch);
  const link = chain.links[at]!;
  const recv = directionKey(link.recv, index, chain.maxJump, chain.maxOooKeys);
  const links = chain.links.slice();
  links[at] = { send: link.send, recv: recv.direction };
  return { chain: withLinks(chain, links, chain.sendEpoch), key: recv.key };
}

function directionKey(
  dir: DirectionChain,
  at: number,
  maxJump: number,
  maxOoo: number,
): { direction: DirectionChain; key: Uint8Array } {
  const { ctr } = dir;
  if (at === ctr) fail(`key already requested: ${at}`);
  if (at < ctr) {
    if (at + maxOoo < ctr) fail(`key trimmed: ${at}`);
    const taken = takeSkippedKey(dir.skipped, at);
    if (taken === null) fail(`key already requested: ${at}`);
    return { direction: { ctr, next: dir.next, skipped: taken.skipped }, key: taken.key };
  }
  if (at - ctr > maxJump) fail(`key jump: ${ctr} - ${at}`);
  if (dir.next === null) fail('receive chain is not available');
  // Keys ctr+1 … at−1 are skipped; those within maxOoo of `at` are kept.
  const firstKept = Math.max(ctr + 1, at - maxOoo);
  const kept = new Uint8Array(Math.max(0, at - firstKept) * 32);
  let next = dir.next;
  for (let i = ctr + 1; i < at; i++) {
    const g = step(next, i);
    next = g.slice(0, 32);
    if (i >= firstKept) kept.set(g.subarray(32, 64), (i - firstKept) * 32);
    g.fill(0);
  }
  const g = step(next, at);
  const key = g.slice(32, 64);
  const skipped = appendSkippedKeys(
    dropSkippedKeysBelow(dir.skipped, at - maxOoo),
    firstKept,
    kept,
  );
  const direction: DirectionChain = { ctr: at, next: g.slice(0, 32), skipped };
  g.fill(0);
  kept.fill(0);
  return { direction, key };
}
