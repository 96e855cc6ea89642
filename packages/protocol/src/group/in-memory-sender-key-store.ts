/**
 * A {@link SenderKeyStore} in memory, for tests and short-lived tools (shared/specs/signal-wire.md
 * §5). It keeps the live `SenderKeyRecord` objects, so nothing is serialised per message.
 * Intended for the package's `./testing` entry; nothing is persisted.
 */
import type { ProtocolAddress } from '../address.js';
import type { SenderKeyRecord } from './sender-key-record.js';
import type { SenderKeyStore } from './sender-key-store.js';

function storeKey(sender: ProtocolAddress, distributionId: string): string {
  // distributionId is a fixed-format UUID and deviceId a number, so the key is unambiguous.
  return `${distributionId.toLowerCase()}:${sender.deviceId}:${sender.name}`;
}

export class InMemorySenderKeyStore implements SenderKeyStore {
  readonly #records = new Map<string, SenderKeyRecord>();

  saveSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
    record: SenderKeyRecord,
  ): Promise<void> {
    this.#records.set(storeKey(sender, distributionId), record);
    return Promise.resolve();
  }

  getSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | null> {
    return Promise.resolve(this.#records.get(storeKey(sender, distributionId)) ?? null);
  }

  /** Number of stored records. */
  get size(): number {
    return this.#records.size;
  }
}
