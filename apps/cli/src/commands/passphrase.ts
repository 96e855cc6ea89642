/**
 * `sotto passphrase change`: re-wraps the profile's store key under a new passphrase (nothing
 * else in the store is rewritten). The new one comes from SOTTO_NEW_PASSPHRASE (scripts) or is
 * asked for twice without echo.
 */
import { MIN_PASSPHRASE_LENGTH } from '@sotto/client-store-sqlite';
import { CliError } from '../cli-error.js';
import { openProfileStore, profileDirectory, readPassphrase, requireProfile } from '../profile.js';
import type { GlobalOptions, RunContext } from '../session.js';
import { promptHidden } from '../terminal/prompt.js';

export async function changePassphrase(globals: GlobalOptions, ctx: RunContext): Promise<void> {
  const profileDir = profileDirectory(globals.profile);
  ctx.profileDir = profileDir;
  requireProfile(profileDir);
  const current = await readPassphrase('unlock');
  const { store } = await openProfileStore(profileDir, { create: false, passphrase: current });
  try {
    let next = process.env.SOTTO_NEW_PASSPHRASE;
    if (next === undefined || next.length === 0) {
      process.stderr.write(
        `Choose a new passphrase (at least ${MIN_PASSPHRASE_LENGTH} characters).\n`,
      );
      next = await promptHidden('New passphrase: ', 'passphrase');
      if ((await promptHidden('Repeat new passphrase: ', 'passphrase')) !== next) {
        throw new CliError('MISMATCH', 'the two passphrases differ');
      }
    }
    await store.changePassphrase(current, next);
    process.stdout.write('Passphrase changed.\n');
  } finally {
    await store.close();
  }
}
