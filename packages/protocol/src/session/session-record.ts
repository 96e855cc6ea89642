/**
 * All sessions with one address (shared/specs/signal-wire.md §2.4, §3.2; libsignal
 * `SessionRecord`): the current state plus up to `ARCHIVED_STATES_MAX_LENGTH` (40) archived ones,
 * newest first.
 *
 * Rules kept from libsignal:
 * - promoting a state archives the current one (its pending PreKey items are cleared) and drops
 *   the oldest archived state beyond 40;
 * - a PreKey message whose base key matches an existing state promotes that state instead of
 *   starting a new session ("promote the session matching this base key");
 * - a state whose PreKey message was never answered is not used to send after
 *   `MAX_UNACKNOWLEDGED_SESSION_AGE_MS` (judged against the injected `now`).
 *
 * Storage: `RECORD_FORMAT(0x01) ‖ protobuf{1: current, 2: repeated archived}` where each state is
 * the body of `encodeSessionState`. Archived states never change, so their encoding is cached.
 */
import { constantTimeEqual } from '@sotto/crypto';
import { ProtocolError } from '../errors.js';
import type { PublicKey } from '../keys/curve.js';
import { ARCHIVED_STATES_MAX_LENGTH, MAX_UNACKNOWLEDGED_SESSION_AGE_MS } from '../limits.js';
import { ProtoWriter, readFields } from '../wire/protobuf.js';
import { decodeSessionState, encodeSessionState, type SessionState } from './session-state.js';

export const SESSION_RECORD_FORMAT = 0x01;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Encodings of archived (hence never-changing) states. */
const encodedCache = new WeakMap<SessionState, Uint8Array>();

function encodeCached(state: SessionState): Uint8Array {
  let bytes = encodedCache.get(state);
  if (bytes === undefined) {
    bytes = encodeSessionState(state);
    encodedCache.set(state, bytes);
  }
  return bytes;
}

/** Whether a state with pending PreKey items is too old to send with (libsignal "stale"). */
export function isStale(state: SessionState, now: number): boolean {
  return (
    state.pending !== null && state.pending.timestamp + MAX_UNACKNOWLEDGED_SESSION_AGE_MS < now
  );
}

export class SessionRecord {
  #current: SessionState | null;
  /** Newest first. */
  #previous: SessionState[];

  constructor(current: SessionState | null = null, previous: readonly SessionState[] = []) {
    this.#current = current;
    this.#previous = previous.slice(0, ARCHIVED_STATES_MAX_LENGTH);
  }

  static newFresh(): SessionRecord {
    return new SessionRecord();
  }

  /** The state used to send and tried first to receive. */
  get current(): SessionState | null {
    return this.#current;
  }

  /** Archived states, newest first. */
  get previous(): readonly SessionState[] {
    return this.#previous;
  }

  /** A shallow copy (states are immutable, so this is a full logical copy). */
  clone(): SessionRecord {
    return new SessionRecord(this.#current, this.#previous);
  }

  /**
   * Whether the current state can be used to send at `now` (ms since the epoch): it exists and is
   * not an unacknowledged session older than MAX_UNACKNOWLEDGED_SESSION_AGE_MS.
   */
  hasCurrentState(now: number): boolean {
    return this.#current !== null && !isStale(this.#current, now);
  }

  /** Replaces the current state (after a successful encrypt or decrypt). */
  setCurrentState(state: SessionState): void {
    this.#current = state;
  }

  /** Archives the current state, if any, and makes `state` current. */
  promoteState(state: SessionState): void {
    this.archiveCurrentState();
    this.#current = state;
  }

  /** Moves the current state to the archive (libsignal `archiveCurrentState`). */
  archiveCurrentState(): void {
    const current = this.#current;
    if (current === null) return;
    this.#current = null;
    const archived = current.pending === null ? current : { ...current, pending: null };
    this.#previous.unshift(archived);
    if (this.#previous.length > ARCHIVED_STATES_MAX_LENGTH) {
      this.#previous.length = ARCHIVED_STATES_MAX_LENGTH;
    }
  }

  /** Removes archived state `index` and promotes `updated` (its successor) to current. */
  promoteOldSession(index: number, updated: SessionState): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#previous.length) {
      throw new ProtocolError('INVALID_STATE', 'no archived session at that index');
    }
    this.#previous.splice(index, 1);
    this.promoteState(updated);
  }

  /**
   * If the current or an archived state was set up by the PreKey message with this base key,
   * makes it current and returns true (libsignal `promote_matching_session`).
   */
  promoteMatchingSession(version: number, baseKey: Uint8Array): boolean {
    const current = this.#current;
    if (
      current !== null &&
      current.version === version &&
      constantTimeEqual(baseKey, current.aliceBaseKey)
    ) {
      return true;
    }
    const index = this.#previous.findIndex(
      (s) => s.version === version && constantTimeEqual(baseKey, s.aliceBaseKey),
    );
    if (index < 0) return false;
    this.promoteOldSession(index, this.#previous[index]!);
    return true;
  }

  localRegistrationId(): number {
    return this.#requireCurrent().localRegistrationId;
  }

  remoteRegistrationId(): number {
    return this.#requireCurrent().remoteRegistrationId;
  }

  /** Whether our current sending ratchet key is `key`. */
  currentRatchetKeyMatches(key: PublicKey): boolean {
    return this.#current !== null && this.#current.sender.ratchetKey.publicKey.equals(key);
  }

  #requireCurrent(): SessionState {
    if (this.#current === null)
      throw new ProtocolError('NO_SESSION', 'the record has no current session');
    return this.#current;
  }

  serialize(): Uint8Array {
    const w = new ProtoWriter(8192);
    w.raw(Uint8Array.of(SESSION_RECORD_FORMAT));
    if (this.#current !== null) w.bytes(1, encodeSessionState(this.#current));
    for (const state of this.#previous) w.bytes(2, encodeCached(state));
    return w.finish();
  }

  /** Parses `serialize()` output; anything else is `INVALID_STATE`. */
  static deserialize(bytes: Uint8Array): SessionRecord {
    if (!(bytes instanceof Uint8Array) || bytes.length < 1 || bytes[0] !== SESSION_RECORD_FORMAT) {
      throw new ProtocolError('INVALID_STATE', 'session record: unknown format');
    }
    let current: SessionState | null = null;
    const previous: SessionState[] = [];
    try {
      for (const f of readFields(bytes.subarray(1))) {
        if (f.wire !== 2)
          throw new ProtocolError('INVALID_STATE', 'session record: bad field type');
        if (f.field === 1) current = decodeSessionState(f.bytes);
        else if (f.field === 2) {
          const state = decodeSessionState(f.bytes);
          encodedCache.set(state, Uint8Array.from(f.bytes));
          previous.push(state);
        } else throw new ProtocolError('INVALID_STATE', `session record: unknown field ${f.field}`);
      }
    } catch (cause) {
      if (ProtocolError.is(cause, 'INVALID_STATE')) throw cause;
      throw new ProtocolError('INVALID_STATE', 'session record does not parse', { cause });
    }
    if (previous.length > ARCHIVED_STATES_MAX_LENGTH) {
      throw new ProtocolError('INVALID_STATE', 'session record: too many archived sessions');
    }
    return new SessionRecord(current, previous);
  }

  toJSON(): string {
    return `SessionRecord(${this.#current === null ? 'no current' : 'current'}, ${this.#previous.length} archived)`;
  }

  [INSPECT](): string {
    return this.toJSON();
  }
}
