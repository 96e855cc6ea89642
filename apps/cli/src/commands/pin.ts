/**
 * `sotto pin set|change|remove`: the two-step PIN (registration lock) of the account, primary
 * device only. The PIN comes from `SOTTO_PIN` or a prompt without echo (twice when choosing one).
 * The SDK never sends or stores the PIN: the relay holds only a token derived from a random master
 * key kept in this profile's encrypted store, and the key vault (inside the relay, or at
 * `SOTTO_VAULT_URL`) holds that master key sealed under the PIN with OPAQUE, so `sotto register`
 * on a new device can recover it with the PIN (10 guesses, then the vault destroys it).
 */
import { VaultPinVault } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { withSession, type GlobalOptions, type RunContext } from '../session.js';
import { promptHidden } from '../terminal/prompt.js';

/** The PIN vault of every session: the relay's key vault, or the one at SOTTO_VAULT_URL. */
export function cliPinVault(): VaultPinVault {
  const url = process.env.SOTTO_VAULT_URL;
  return new VaultPinVault(url !== undefined && url.length > 0 ? { url } : {});
}

/** True if a PIN can be had: SOTTO_PIN is set, or there is a terminal to ask in. */
export function canAskPin(): boolean {
  const fromEnv = process.env.SOTTO_PIN;
  return (fromEnv !== undefined && fromEnv.length > 0) || process.stdin.isTTY === true;
}

/** The PIN of a locked number: SOTTO_PIN, or asked for without echo. Never printed. */
export async function existingPin(): Promise<string> {
  const fromEnv = process.env.SOTTO_PIN;
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  return promptHidden(
    'This number has a two-step PIN (10 wrong PINs destroy its key in the vault). PIN: ',
    'PIN',
  );
}

async function newPin(): Promise<string> {
  const fromEnv = process.env.SOTTO_PIN;
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const first = await promptHidden('New PIN: ', 'PIN');
  const second = await promptHidden('Repeat PIN: ', 'PIN');
  if (first !== second) throw new CliError('MISMATCH', 'the two PINs differ');
  return first;
}

export async function pin(
  action: 'set' | 'change' | 'remove',
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withSession(globals, ctx, async ({ client }) => {
    switch (action) {
      case 'set':
        await client.setPin(await newPin());
        process.stdout.write(
          'Registration lock on: this number cannot be registered on another device while this one is in use.\n',
        );
        return;
      case 'change':
        await client.changePin(await newPin());
        process.stdout.write('PIN changed.\n');
        return;
      case 'remove':
        await client.removePin();
        process.stdout.write('Registration lock off; the key vault no longer holds the PIN.\n');
        return;
    }
  });
}
