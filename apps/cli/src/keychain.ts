/**
 * The OS keychain of the `sotto` command (docs/cli.md "Data at rest"): on Linux and the BSDs the
 * freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) through `SecretServiceKeychain`
 * of the store adapter; macOS Keychain and Windows Credential Manager bindings are not built.
 *
 * A profile uses the keychain only once its owner turned it on (`sotto keychain enable`, or
 * `--keychain` on register/link): only then does its store carry a keychain wrap, and only then
 * does opening it ask the keychain at all. The passphrase wrap always remains, as the recovery
 * path when the keychain is locked, unavailable or lost.
 */
import {
  openSqliteClientStore,
  SecretServiceKeychain,
  SqliteClientStoreError,
  type SqliteClientStore,
} from '@sotto/client-store-sqlite';
import { CliError } from './cli-error.js';

/** The OS keychain sotto can use here, or undefined where no binding exists. */
export function osKeychain(): SecretServiceKeychain | undefined {
  if (process.platform === 'darwin' || process.platform === 'win32') return undefined;
  return new SecretServiceKeychain();
}

/** The OS keychain, or a USAGE error naming what is missing on this system. */
export function requireOsKeychain(): SecretServiceKeychain {
  const keychain = osKeychain();
  if (keychain === undefined) {
    throw new CliError(
      'USAGE',
      `sotto has no binding for this system's keychain yet (only the Secret Service on Linux and BSD); the passphrase protects the profile`,
    );
  }
  return keychain;
}

/**
 * Opens an existing store with the OS keychain alone, without a passphrase. Undefined when the
 * profile has no keychain wrap (nothing is asked of the keychain then) or the keychain did not
 * unlock it — in which case one line on stderr says why, before the passphrase is asked for.
 */
export async function unlockWithKeychain(path: string): Promise<SqliteClientStore | undefined> {
  const keychain = osKeychain();
  if (keychain === undefined) return undefined;
  try {
    return await openSqliteClientStore({ path, keychain, create: false });
  } catch (err) {
    if (!SqliteClientStoreError.is(err, 'PASSPHRASE_REQUIRED')) throw err;
    if (SqliteClientStoreError.is(err.cause)) {
      process.stderr.write(`sotto: ${err.cause.message}; using the passphrase instead\n`);
    }
    return undefined;
  }
}
