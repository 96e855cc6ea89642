/**
 * Linking another device to an account, Signal's way (docs/client.md "Linking a device"):
 *
 * - `sotto link` on the NEW profile: creates the profile (asking for a new passphrase), opens a
 *   provisioning connection to the relay and prints the link URI and its QR code, then waits until
 *   the primary approved it and prints the account and this device's number. A run that fails
 *   leaves no half-made profile behind.
 * - `sotto devices add <uri>` on the PRIMARY: sends the account to the device showing that URI —
 *   copied or scanned from its screen, which is what proves it is the device in front of you —
 *   and prints the new device's number once it joined.
 */
import { ClientError, type PendingLink } from '@sotto/client';
import { CliError } from '../cli-error.js';
import { LINK_APPROVAL_WAIT_MS, LINK_WAIT_MS } from '../limits.js';
import { writeSettings } from '../profile.js';
import {
  unreachable,
  withNewProfile,
  withSession,
  type GlobalOptions,
  type RunContext,
} from '../session.js';
import { terminalQr } from '../terminal/render.js';
import { KEYCHAIN_ON } from './keychain.js';

export interface LinkOptions {
  /** Draw the QR code (default true). */
  readonly qr: boolean;
  /** Also wrap the store key with the OS keychain (keychain.ts): later runs need no passphrase. */
  readonly keychain?: boolean;
}

export async function link(
  options: LinkOptions,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withNewProfile(globals, ctx, { keychain: options.keychain === true }, async (session) => {
    const { client } = session;
    let pending: PendingLink;
    try {
      pending = await client.beginLink({ timeoutMs: LINK_WAIT_MS });
    } catch (err) {
      if (ClientError.is(err, 'NETWORK')) throw unreachable(session.serverUrl, err);
      throw err;
    }
    let out = 'To link this profile to your account, run on your primary device:\n\n';
    out += `  sotto devices add '${pending.uri}'\n\n`;
    if (options.qr)
      out += `or scan this code with it:\n\n${await terminalQr(new TextEncoder().encode(pending.uri))}\n`;
    out += `Waiting for the primary to approve (up to ${LINK_WAIT_MS / 60_000} minutes)…\n`;
    process.stdout.write(out);
    const account = await pending.done.catch((err: unknown) => {
      if (ClientError.is(err, 'TIMEOUT')) {
        throw new CliError(
          'TIMEOUT',
          'the primary did not approve the link in time; run "sotto link" again',
          {
            cause: err,
          },
        );
      }
      throw err;
    });
    await writeSettings(session.store, { serverUrl: session.serverUrl });
    process.stdout.write(
      `Linked to ${account.number ?? account.accountId} on ${session.serverUrl} as device ${account.deviceId}.\n` +
        `Check that this is your account. Profile: ${session.profileDir}\n`,
    );
    if (session.store.describe().keychainWrap) process.stdout.write(`${KEYCHAIN_ON}\n`);
  });
}

export async function addDevice(
  uri: string,
  globals: GlobalOptions,
  ctx: RunContext,
): Promise<void> {
  await withSession(globals, ctx, async ({ client }) => {
    const { deviceId } = await client
      .approveLink(uri, { timeoutMs: LINK_APPROVAL_WAIT_MS })
      .catch((err: unknown) => {
        if (ClientError.is(err, 'TIMEOUT')) {
          throw new CliError(
            'TIMEOUT',
            'the new device got the account but did not join in time: look at its screen, then "sotto devices"',
            { cause: err },
          );
        }
        throw err;
      });
    process.stdout.write(`Linked device ${deviceId} ✓\n`);
  });
}
