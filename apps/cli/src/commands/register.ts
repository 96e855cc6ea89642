/**
 * `sotto register <number>`: creates the profile (asking for a new passphrase) if there is none,
 * asks the relay for an SMS code, reads it from the terminal (or `--code`), and registers. A run
 * that fails leaves no half-made profile behind.
 *
 * A number locked by a two-step PIN (registration lock): the relay answers REGISTRATION_LOCKED
 * once the code was right; the command then asks for the PIN (`SOTTO_PIN`, or a prompt without
 * echo; never an option, which would land in the shell history) and the SDK recovers the lock's
 * master key from the key vault with it (docs/backups.md "The key vault"). A wrong PIN is refused
 * with the guesses left; after 10 the vault destroys the key and the number stays locked until the
 * lock lapses (7 days without its old device).
 */
import { ClientError } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { normaliseNumber } from '../contacts.js';
import { writeSettings } from '../profile.js';
import { withNewProfile, type GlobalOptions, type RunContext } from '../session.js';
import { promptLine } from '../terminal/prompt.js';
import { KEYCHAIN_ON } from './keychain.js';
import { canAskPin, existingPin } from './pin.js';

export interface RegisterOptions {
  /** A code from an earlier request (skips asking for a new one). */
  readonly code?: string;
  /** Also wrap the store key with the OS keychain (keychain.ts): later runs need no passphrase. */
  readonly keychain?: boolean;
}

const CODE = /^[0-9]{6}$/;

/**
 * The number argument in E.164 form, after checking it and a `--code` given with it (before a
 * profile is opened): USAGE otherwise. Shared with `sotto backup restore`.
 */
export function checkNumberAndCode(numberArgument: string, code: string | undefined): string {
  const number = normaliseNumber(numberArgument);
  if (number === undefined) {
    throw new CliError(
      'USAGE',
      'not a valid phone number: use international (E.164) form, e.g. +14155550100',
    );
  }
  if (code !== undefined && !CODE.test(code)) {
    throw new CliError('USAGE', 'a verification code has 6 digits');
  }
  return number;
}

/** Reads the SMS code from the terminal (spaces allowed); USAGE if it is not 6 digits. */
export async function askVerificationCode(): Promise<string> {
  const code = (await promptLine('Verification code: ', 'verification code')).replace(/\s/g, '');
  if (!CODE.test(code)) throw new CliError('USAGE', 'a verification code has 6 digits');
  return code;
}

export async function register(
  numberArgument: string,
  options: RegisterOptions,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  const number = checkNumberAndCode(numberArgument, options.code);
  await withNewProfile(globals, ctx, { keychain: options.keychain === true }, async (session) => {
    const { client } = session;
    let code = options.code;
    if (code === undefined) {
      const { expiresInSeconds } = await client.requestCode(number);
      process.stderr.write(
        `A verification code was sent to ${number} (valid ${Math.round(expiresInSeconds / 60)} minutes).\n`,
      );
      code = await askVerificationCode();
    }
    let account;
    try {
      account = await client.register({ number, code });
    } catch (err) {
      // Locked: the PIN recovers the lock's key from the key vault. Without SOTTO_PIN or a
      // terminal to ask in, the lock error itself is the answer (it says how to give the PIN).
      if (!ClientError.is(err, 'REGISTRATION_LOCKED') || !canAskPin()) throw err;
      const given = await existingPin();
      if (given.length === 0) throw err;
      account = await client.register({ number, code, pin: given });
    }
    await writeSettings(session.store, { serverUrl: session.serverUrl });
    process.stdout.write(
      `Registered ${account.number ?? number} on ${session.serverUrl} (device ${account.deviceId}).\n`,
    );
    process.stdout.write(`Profile: ${session.profileDir}\n`);
    if (session.store.describe().keychainWrap) process.stdout.write(`${KEYCHAIN_ON}\n`);
  });
}
