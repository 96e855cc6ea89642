/**
 * All sender-key chains known for one (sender, distribution id) pair (shared/specs/signal-wire.md
 * §5, libsignal `sender_keys.rs` `SenderKeyRecord`): newest first, at most
 * `SENDER_KEY_MAX_STATES`. Adding a chain that is already known (same chain id and signing key)
 * moves the existing state to the front and keeps its progress; a chain id reused with another
 * signing key replaces the old state.
 *
 * Serialisation (versioned): libsignal's `SenderKeyRecordStructure` protobuf
 * `{1: repeated SenderKeyStateStructure}` followed by field 15 `sotto_record_version = 1`.
 * libsignal skips the unknown field 15, so a Sotto record loads in libsignal and a libsignal
 * record (no field 15, read as version 1) loads in Sotto. A later format bumps field 15; a record
 * newer than this code is refused with `INVALID_STATE`.
 */
import { ProtocolError } from '../errors.js';
import type { PrivateKey, PublicKey } from '../keys/curve.js';
import { SENDER_KEY_MAX_STATES } from '../limits.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { expectBytes, expectUint32 } from './proto-fields.js';
import { SenderKeyState } from './sender-key-state.js';

/** Field number of Sotto's format version inside the record protobuf. */
const RECORD_VERSION_FIELD = 15;
/** The record format this code writes and the newest it reads. */
export const SENDER_KEY_RECORD_VERSION = 1;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export class SenderKeyRecord {
  /** Newest first. */
  readonly #states: SenderKeyState[];

  constructor(states: SenderKeyState[] = []) {
    this.#states = states;
  }

  /** The states, newest first (read-only view). */
  get states(): readonly SenderKeyState[] {
    return this.#states;
  }

  get isEmpty(): boolean {
    return this.#states.length === 0;
  }

  /** The newest state: the one a sender encrypts with. */
  currentState(): SenderKeyState | undefined {
    return this.#states[0];
  }

  /** The state of the chain `chainId`, if it is still kept. */
  stateForChainId(chainId: number): SenderKeyState | undefined {
    for (const state of this.#states) if (state.chainId === chainId) return state;
    return undefined;
  }

  /** libsignal `add_sender_key_state` (see the module header for the rules). */
  addState(
    messageVersion: number,
    chainId: number,
    iteration: number,
    chainKey: Uint8Array,
    signingKey: PublicKey,
    signingPrivateKey: PrivateKey | undefined,
  ): void {
    let existing: SenderKeyState | undefined;
    const index = this.#states.findIndex(
      (s) => s.chainId === chainId && s.signingKey.equals(signingKey),
    );
    if (index >= 0) existing = this.#states.splice(index, 1)[0];
    for (let i = this.#states.length - 1; i >= 0; i--) {
      if (this.#states[i]!.chainId === chainId) this.#states.splice(i, 1);
    }
    const state =
      existing ??
      new SenderKeyState(
        messageVersion,
        chainId,
        iteration,
        Uint8Array.from(chainKey),
        signingKey,
        signingPrivateKey,
      );
    while (this.#states.length >= SENDER_KEY_MAX_STATES) this.#states.pop();
    this.#states.unshift(state);
  }

  serialize(): Uint8Array {
    const w = new ProtoWriter(256);
    for (const state of this.#states) {
      const inner = new ProtoWriter(256);
      state.encode(inner);
      w.bytes(1, inner.finish());
    }
    w.uint32(RECORD_VERSION_FIELD, SENDER_KEY_RECORD_VERSION);
    return w.finish();
  }

  /** Reads a record written by Sotto or by libsignal; `INVALID_STATE` if it is unusable. */
  static deserialize(bytes: Uint8Array): SenderKeyRecord {
    const states: SenderKeyState[] = [];
    try {
      for (const f of readFields(bytes)) {
        if (f.field === 1) {
          states.push(SenderKeyState.decode(expectBytes(f.wire, f.bytes, 'INVALID_STATE')));
        } else if (f.field === RECORD_VERSION_FIELD) {
          const version = expectUint32(f.wire, f.int, 'INVALID_STATE');
          if (version > SENDER_KEY_RECORD_VERSION) {
            throw new ProtocolError('INVALID_STATE', `sender key record version ${version}`);
          }
        }
      }
    } catch (cause) {
      if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
      throw new ProtocolError('INVALID_STATE', 'sender key record does not parse', { cause });
    }
    return new SenderKeyRecord(states);
  }

  toJSON(): Record<string, unknown> {
    return { type: 'SenderKeyRecord', states: this.#states.map((s) => s.toJSON()) };
  }

  [INSPECT](): string {
    return `SenderKeyRecord ${JSON.stringify(this.toJSON())}`;
  }
}
