/**
 * One sender-key chain as a receiver (or the sender) holds it (shared/specs/signal-wire.md §5,
 * libsignal `sender_keys.rs` `SenderKeyState`): chain id, message version, the chain key and its
 * iteration, the signing key (with its private half on the sender's side) and up to
 * `SENDER_KEY_MAX_MESSAGE_KEYS` skipped message-key seeds, oldest dropped first.
 *
 * State changes are two-phase so nothing changes before a message has decrypted:
 * {@link SenderKeyState.messageKeyFor} computes the key and returns a `commit` that applies the
 * chain step and the skipped-key bookkeeping. Serialisation is libsignal's
 * `SenderKeyStateStructure` (storage.proto, proto3), field for field.
 *
 * Left out on purpose: libsignal keeps unparsable states around and fails when they are used;
 * Sotto refuses such a record when it is loaded (`INVALID_STATE`).
 */
import { ProtocolError } from '../errors.js';
import { PrivateKey, PublicKey, PUBLIC_KEY_LENGTH } from '../keys/curve.js';
import { SENDER_KEY_MAX_FORWARD_JUMPS, SENDER_KEY_MAX_MESSAGE_KEYS } from '../limits.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { expectBytes, expectUint32 } from './proto-fields.js';
import {
  SENDER_CHAIN_KEY_LENGTH,
  assertCanAdvance,
  nextSenderChainKey,
  senderMessageKeySeed,
} from './sender-chain-key.js';
import { SENDER_KEY_MESSAGE_VERSION } from './sender-key-distribution-message.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The key of one message and how to record that it was used. */
export interface SenderMessageKeyPlan {
  /** Iteration of the message. */
  readonly iteration: number;
  /** Message key seed (expand with `expandSenderMessageKey`). */
  readonly seed: Uint8Array;
  /** Applies the state change; call only after the message decrypted. */
  commit(): void;
}

export class SenderKeyState {
  /** 3 for every state Sotto or libsignal creates (0 in old records means 3). */
  readonly messageVersion: number;
  readonly chainId: number;
  readonly signingKey: PublicKey;
  /** Present only in the sender's own state. */
  readonly signingPrivateKey: PrivateKey | undefined;
  #iteration: number;
  #chainKey: Uint8Array;
  /** Skipped message-key seeds by iteration, in insertion order (oldest first). */
  readonly #skipped: Map<number, Uint8Array>;

  constructor(
    messageVersion: number,
    chainId: number,
    iteration: number,
    chainKey: Uint8Array,
    signingKey: PublicKey,
    signingPrivateKey: PrivateKey | undefined,
    skipped: Map<number, Uint8Array> = new Map(),
  ) {
    this.messageVersion = messageVersion === 0 ? SENDER_KEY_MESSAGE_VERSION : messageVersion;
    this.chainId = chainId;
    this.#iteration = iteration;
    this.#chainKey = chainKey;
    this.signingKey = signingKey;
    this.signingPrivateKey = signingPrivateKey;
    this.#skipped = skipped;
  }

  /** Iteration of the current chain key (the next message to send or expect in order). */
  get iteration(): number {
    return this.#iteration;
  }

  /** The current chain key (secret; used to build a distribution message). */
  get chainKey(): Uint8Array {
    return this.#chainKey;
  }

  /** Number of stored skipped message keys. */
  get skippedKeyCount(): number {
    return this.#skipped.size;
  }

  /** Iterations of the stored skipped keys, oldest first. */
  skippedIterations(): number[] {
    return [...this.#skipped.keys()];
  }

  /** Sender side: the seed for the current iteration; `commit` steps the chain. */
  nextSendingKey(): SenderMessageKeyPlan {
    assertCanAdvance(this.#iteration);
    const chainKey = this.#chainKey;
    const iteration = this.#iteration;
    return {
      iteration,
      seed: senderMessageKeySeed(chainKey),
      commit: () => {
        this.#chainKey = nextSenderChainKey(chainKey);
        this.#iteration = iteration + 1;
      },
    };
  }

  /**
   * Receiver side: the seed for `iteration` (libsignal `get_sender_key`). An older iteration
   * must be a stored skipped key (else `DUPLICATE_MESSAGE`); a newer one may be at most
   * `SENDER_KEY_MAX_FORWARD_JUMPS` ahead (else `MESSAGE_GAP_TOO_LARGE`). Nothing changes until
   * `commit()`.
   */
  messageKeyFor(iteration: number): SenderMessageKeyPlan {
    const current = this.#iteration;
    if (iteration < current) {
      const seed = this.#skipped.get(iteration);
      if (seed === undefined) {
        throw new ProtocolError(
          'DUPLICATE_MESSAGE',
          `sender key iteration ${iteration} already used (chain at ${current})`,
        );
      }
      return { iteration, seed, commit: () => void this.#skipped.delete(iteration) };
    }
    const jump = iteration - current;
    if (jump > SENDER_KEY_MAX_FORWARD_JUMPS) {
      throw new ProtocolError(
        'MESSAGE_GAP_TOO_LARGE',
        `sender key iteration ${iteration} is ${jump} ahead of the chain`,
      );
    }
    assertCanAdvance(iteration);
    // Only the newest MAX_MESSAGE_KEYS skipped keys survive the eviction, so only those are derived.
    const keepFrom = iteration - Math.min(jump, SENDER_KEY_MAX_MESSAGE_KEYS);
    const skippedIterations: number[] = [];
    const skippedSeeds: Uint8Array[] = [];
    let chainKey = this.#chainKey;
    for (let i = current; i < iteration; i++) {
      if (i >= keepFrom) {
        skippedIterations.push(i);
        skippedSeeds.push(senderMessageKeySeed(chainKey));
      }
      chainKey = nextSenderChainKey(chainKey);
    }
    const finalChainKey = chainKey;
    return {
      iteration,
      seed: senderMessageKeySeed(finalChainKey),
      commit: () => {
        for (let k = 0; k < skippedIterations.length; k++) {
          this.#skipped.set(skippedIterations[k]!, skippedSeeds[k]!);
        }
        this.#evictSkipped();
        this.#chainKey = nextSenderChainKey(finalChainKey);
        this.#iteration = iteration + 1;
      },
    };
  }

  #evictSkipped(): void {
    let excess = this.#skipped.size - SENDER_KEY_MAX_MESSAGE_KEYS;
    if (excess <= 0) return;
    for (const key of this.#skipped.keys()) {
      if (excess-- <= 0) break;
      this.#skipped.delete(key);
    }
  }

  /** libsignal `SenderKeyStateStructure` (proto3: zero values are omitted). */
  encode(w: ProtoWriter): void {
    if (this.chainId !== 0) w.uint32(1, this.chainId);
    const chain = new ProtoWriter(40);
    if (this.#iteration !== 0) chain.uint32(1, this.#iteration);
    chain.bytes(2, this.#chainKey);
    w.bytes(2, chain.finish());
    const signing = new ProtoWriter(72);
    signing.bytes(1, this.signingKey.serialize());
    if (this.signingPrivateKey !== undefined) signing.bytes(2, this.signingPrivateKey.serialize());
    w.bytes(3, signing.finish());
    for (const [iteration, seed] of this.#skipped) {
      const key = new ProtoWriter(40);
      if (iteration !== 0) key.uint32(1, iteration);
      key.bytes(2, seed);
      w.bytes(4, key.finish());
    }
    if (this.messageVersion !== 0) w.uint32(5, this.messageVersion);
  }

  /** Parses a `SenderKeyStateStructure`; throws `INVALID_STATE` on anything unusable. */
  static decode(bytes: Uint8Array): SenderKeyState {
    let chainId = 0;
    let messageVersion = 0;
    let chain: { iteration: number; key: Uint8Array } | undefined;
    let signing: { publicKey: Uint8Array; privateKey: Uint8Array } | undefined;
    const skipped = new Map<number, Uint8Array>();
    for (const f of readFields(bytes)) {
      switch (f.field) {
        case 1:
          chainId = expectUint32(f.wire, f.int, 'INVALID_STATE');
          break;
        case 2:
          chain = decodeIterationAndSeed(expectBytes(f.wire, f.bytes, 'INVALID_STATE'));
          break;
        case 3:
          signing = decodeSigningKey(expectBytes(f.wire, f.bytes, 'INVALID_STATE'));
          break;
        case 4: {
          const key = decodeIterationAndSeed(expectBytes(f.wire, f.bytes, 'INVALID_STATE'));
          skipped.set(key.iteration, key.key);
          break;
        }
        case 5:
          messageVersion = expectUint32(f.wire, f.int, 'INVALID_STATE');
          break;
        default:
          break;
      }
    }
    if (chain === undefined || chain.key.length !== SENDER_CHAIN_KEY_LENGTH) {
      throw new ProtocolError('INVALID_STATE', 'sender key state without a chain key');
    }
    if (signing === undefined || signing.publicKey.length < PUBLIC_KEY_LENGTH) {
      throw new ProtocolError('INVALID_STATE', 'sender key state without a signing key');
    }
    for (const seed of skipped.values()) {
      if (seed.length !== SENDER_CHAIN_KEY_LENGTH) {
        throw new ProtocolError('INVALID_STATE', 'bad skipped sender message key');
      }
    }
    let signingKey: PublicKey;
    let signingPrivateKey: PrivateKey | undefined;
    try {
      signingKey = PublicKey.deserialize(signing.publicKey);
      signingPrivateKey =
        signing.privateKey.length === 0 ? undefined : PrivateKey.deserialize(signing.privateKey);
    } catch (cause) {
      throw new ProtocolError('INVALID_STATE', 'bad sender key signing key', { cause });
    }
    const state = new SenderKeyState(
      messageVersion,
      chainId,
      chain.iteration,
      chain.key,
      signingKey,
      signingPrivateKey,
      skipped,
    );
    state.#evictSkipped();
    return state;
  }

  /** Public fields only: chain key, skipped keys and the private key are redacted. */
  toJSON(): Record<string, unknown> {
    return {
      type: 'SenderKeyState',
      chainId: this.chainId,
      iteration: this.#iteration,
      signingKey: this.signingKey.toJSON(),
      canSign: this.signingPrivateKey !== undefined,
      skippedKeys: this.#skipped.size,
    };
  }

  [INSPECT](): string {
    return `SenderKeyState ${JSON.stringify(this.toJSON())}`;
  }
}

function decodeIterationAndSeed(bytes: Uint8Array): { iteration: number; key: Uint8Array } {
  let iteration = 0;
  let key: Uint8Array = new Uint8Array(0);
  for (const f of readFields(bytes)) {
    if (f.field === 1) iteration = expectUint32(f.wire, f.int, 'INVALID_STATE');
    else if (f.field === 2) key = Uint8Array.from(expectBytes(f.wire, f.bytes, 'INVALID_STATE'));
  }
  return { iteration, key };
}

function decodeSigningKey(bytes: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array } {
  let publicKey: Uint8Array = new Uint8Array(0);
  let privateKey: Uint8Array = new Uint8Array(0);
  for (const f of readFields(bytes)) {
    if (f.field === 1) publicKey = Uint8Array.from(expectBytes(f.wire, f.bytes, 'INVALID_STATE'));
    else if (f.field === 2) privateKey = expectBytes(f.wire, f.bytes, 'INVALID_STATE');
  }
  return { publicKey, privateKey };
}
