/**
 * `sotto keychain enable|disable|status`: whether the OS keychain (the Secret Service on Linux;
 * ../keychain.ts) also unlocks the profile, so that commands run without asking for the
 * passphrase. Enabling asks for the passphrase once (unless the keychain already unlocks the
 * profile) and adds a keychain wrap of the store key; disabling removes the wrap and the keychain's
 * entry. The passphrase wrap is never touched: it stays the recovery path (docs/cli.md
 * "Data at rest").
 */
import { SqliteClientStoreError } from '@sotto/client-store-sqlite';
import { osKeychain } from '../keychain.js';
import { openProfileStore, profileDirectory, requireProfile } from '../profile.js';
import type { GlobalOptions, RunContext } from '../session.js';

/** Printed once the keychain wrap exists (here and by register/link --keychain). */
export const KEYCHAIN_ON =
  'The OS keychain now unlocks this profile: sotto no longer asks for the passphrase while your\n' +
  'keychain is unlocked. Keep the passphrase: it still unlocks the profile and is the way back in\n' +
  'if the keychain entry is lost (another machine, a reset keyring).';

export type KeychainAction = 'enable' | 'disable' | 'status';

export async function keychain(
  action: KeychainAction,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  const profileDir = profileDirectory(globals.profile);
  ctx.profileDir = profileDir;
  requireProfile(profileDir);
  const { store } = await openProfileStore(profileDir, {
    create: false,
    keychain: action === 'enable',
  });
  try {
    const { keychainWrap, unlockedWith } = store.describe();
    switch (action) {
      case 'enable':
        process.stdout.write(
          unlockedWith === 'keychain'
            ? 'The OS keychain already unlocks this profile.\n'
            : `${KEYCHAIN_ON}\n`,
        );
        return;
      case 'disable': {
        if (!keychainWrap) {
          process.stdout.write('The OS keychain is not enabled for this profile.\n');
          return;
        }
        try {
          await store.forgetKeychain(osKeychain());
        } catch (err) {
          if (!SqliteClientStoreError.is(err)) throw err;
          // The wrap is gone already: the entry left behind no longer opens this file.
          process.stderr.write(
            `sotto: the keychain's entry could not be removed (${err.message}); delete the "Sotto sotto-client-store key" entry with your keyring manager\n`,
          );
        }
        process.stdout.write(
          'The OS keychain no longer unlocks this profile: sotto asks for the passphrase again.\n',
        );
        return;
      }
      case 'status':
        process.stdout.write(
          !keychainWrap
            ? 'OS keychain: off — sotto asks for the passphrase ("sotto keychain enable" turns it on).\n'
            : unlockedWith === 'keychain'
              ? 'OS keychain: on — it unlocked this profile without the passphrase.\n'
              : 'OS keychain: on, but it did not unlock the profile this time (see above); the passphrase did.\n',
        );
        return;
    }
  } finally {
    await store.close();
  }
}
