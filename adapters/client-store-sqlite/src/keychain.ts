/**
 * The OS keychain port (ARCHITECTURE.md "device data at rest": the store key may also be wrapped by
 * an OS keychain). An adapter for macOS Keychain, the Secret Service (GNOME Keyring, KWallet) or
 * the Windows Credential Manager implements these three calls; the store keeps a random 256-bit
 * wrapping key there under (service, account) and only the wrapped store key in its file.
 *
 * One OS binding ships: `SecretServiceKeychain` (keychain-secret-service.ts), the freedesktop Secret
 * Service (GNOME Keyring, KWallet, KeePassXC) on Linux through libsecret's `secret-tool`. macOS
 * Keychain and Windows Credential Manager adapters would implement the same port; none is built.
 * `memoryKeychain()` (in `./testing`) is the reference implementation used by the tests. A
 * passphrase wrap always exists as well, so losing the keychain entry never loses the store.
 *
 * An adapter's errors are SqliteClientStoreErrors (KEYCHAIN_NOT_INSTALLED, KEYCHAIN_UNAVAILABLE,
 * KEYCHAIN_ENTRY_INVALID) and never contain a secret.
 */
export interface KeychainPort {
  /** The secret stored under (service, account), or undefined if there is none. */
  get(service: string, account: string): Promise<Uint8Array | undefined>;
  /** Stores (or replaces) a secret. */
  set(service: string, account: string, secret: Uint8Array): Promise<void>;
  /** Removes a secret; removing a missing one is not an error. */
  delete(service: string, account: string): Promise<void>;
}

/** The keychain service name under which stores keep their wrapping keys. */
export const KEYCHAIN_SERVICE = 'sotto-client-store';
