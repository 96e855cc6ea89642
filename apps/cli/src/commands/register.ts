/**
 * `sotto register <number>`: creates the profile (asking for a new passphrase) if there is none,
 * asks the relay for an SMS code, reads it from the terminal (or `--code`), and registers. A run
 * that fails leaves no half-made profile behind.
 *
 * Not offered yet: re-registering a number locked by a two-step PIN from a new profile. The SDK
 * recovers the lock's key from the PIN only through a PIN vault (the key vault of backups), which
 * the CLI does not configure; such a number answers REGISTRATION_LOCKED until the lock lapses.
 */
import { ClientError } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { normaliseNumber } from '../contacts.js';
import { discardNewProfileStore, writeSettings } from '../profile.js';
import { closeSession, openSession, type GlobalOptions, type RunContext } from '../session.js';
import { promptLine } from '../terminal/prompt.js';

export interface RegisterOptions {
  /** A code from an earlier request (skips asking for a new one). */
  readonly code?: string;
}

const CODE = /^[0-9]{6}$/;

export async function register(
  numberArgument: string,
  options: RegisterOptions,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  const number = normaliseNumber(numberArgument);
  if (number === undefined) {
    throw new CliError(
      'USAGE',
      'not a valid phone number: use international (E.164) form, e.g. +14155550100',
    );
  }
  if (options.code !== undefined && !CODE.test(options.code)) {
    throw new CliError('USAGE', 'a verification code has 6 digits');
  }
  const session = await openSession(globals, ctx, { create: true });
  let registered = false;
  try {
    const { client } = session;
    const existing = client.account;
    if (existing !== null) {
      throw new ClientError(
        'ALREADY_REGISTERED',
        `this profile already holds ${existing.number ?? 'an account'}`,
      );
    }
    let code = options.code;
    if (code === undefined) {
      const { expiresInSeconds } = await client.requestCode(number);
      process.stderr.write(
        `A verification code was sent to ${number} (valid ${Math.round(expiresInSeconds / 60)} minutes).\n`,
      );
      code = (await promptLine('Verification code: ', 'verification code')).replace(/\s/g, '');
      if (!CODE.test(code)) throw new CliError('USAGE', 'a verification code has 6 digits');
    }
    const account = await client.register({ number, code });
    await writeSettings(session.store, { serverUrl: session.serverUrl });
    registered = true;
    process.stdout.write(
      `Registered ${account.number ?? number} on ${session.serverUrl} (device ${account.deviceId}).\n`,
    );
    process.stdout.write(`Profile: ${session.profileDir}\n`);
  } finally {
    await closeSession(session);
    if (!registered && session.created) discardNewProfileStore(session.profileDir);
  }
}
