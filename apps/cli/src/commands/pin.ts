/**
 * `sotto pin set|change|remove`: the two-step PIN (registration lock) of the account, primary
 * device only. The PIN comes from `SOTTO_PIN` or a prompt without echo (twice when choosing one).
 * The SDK never sends or stores the PIN: the relay holds only a token derived from a random key
 * kept in this profile's encrypted store.
 */
import { CliError } from '../cli-error.js';
import { withSession, type GlobalOptions, type RunContext } from '../session.js';
import { promptHidden } from '../terminal/prompt.js';

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
        process.stdout.write('Registration lock off.\n');
        return;
    }
  });
}
