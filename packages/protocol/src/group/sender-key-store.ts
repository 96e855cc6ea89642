/**
 * Where sender-key records live (shared/specs/signal-wire.md §5; libsignal `SenderKeyStore`).
 * Asynchronous like libsignal's so a client can back it with a database. The group cipher loads
 * a record, changes it in place and saves it; a store that keeps live objects (the in-memory
 * store) may simply keep the instance, a persistent store serialises on save and deserialises on
 * load. Calls for the same sender must not interleave (one message at a time per sender), exactly
 * as with libsignal.
 */
import type { ProtocolAddress } from '../address.js';
import type { SenderKeyRecord } from './sender-key-record.js';

export interface SenderKeyStore {
  /** Saves `record` for (`sender`, `distributionId`); `distributionId` is lower-case. */
  saveSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
    record: SenderKeyRecord,
  ): Promise<void>;
  /** The record for (`sender`, `distributionId`), or `null`. */
  getSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | null>;
}
