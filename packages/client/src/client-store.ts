/**
 * The storage port of the client SDK: everything a device keeps (identity, sessions, prekeys,
 * contacts, messages, settings) goes through this namespaced key-value interface. Adapters must
 * pass the conformance suite exported from `@sotto/client/testing` (`runClientStoreConformance`).
 *
 * Contract:
 * - `namespace` and `key` are opaque strings chosen by the SDK (they may name contacts, so an
 *   encrypting adapter must not store them in the clear either: use a keyed hash).
 * - Values are opaque bytes; an adapter at rest must seal them (the SQLite adapter does).
 * - `transaction` runs `fn` atomically: all writes made through `tx` commit together or not at all
 *   (an exception rolls back). Transactions are serialised by the store; reads inside see writes
 *   made earlier in the same transaction.
 * - `list(namespace)` returns every entry of that namespace, ordered by key (string order).
 */
export interface ClientStoreReader {
  get(namespace: string, key: string): Promise<Uint8Array | undefined>;
  list(namespace: string): Promise<Array<readonly [key: string, value: Uint8Array]>>;
}

export interface ClientStoreTransaction extends ClientStoreReader {
  put(namespace: string, key: string, value: Uint8Array): Promise<void>;
  delete(namespace: string, key: string): Promise<void>;
}

export interface ClientStore extends ClientStoreTransaction {
  transaction<T>(fn: (tx: ClientStoreTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
