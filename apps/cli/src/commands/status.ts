/**
 * `sotto status`: the profile, how its store is protected, the account, the relay (and whether it
 * answers), the registration lock and the outbox. Never fails because the relay is down: that is
 * one of the things it reports.
 */
import { ClientError } from '@sotto/client';
import { withSession, type GlobalOptions, type RunContext } from '../session.js';
import { table } from '../terminal/render.js';
import { REACHABILITY_TIMEOUT_MS } from '../limits.js';

export async function status(globals: GlobalOptions, ctx: RunContext): Promise<void> {
  await withSession(globals, ctx, async ({ client, store, serverUrl, profileDir }) => {
    const account = client.account!;
    const d = store.describe();
    let relay: string;
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ClientError('TIMEOUT', 'no answer')),
          REACHABILITY_TIMEOUT_MS,
        );
      });
      const list = await Promise.race([client.devices(), timeout]).finally(() =>
        clearTimeout(timer),
      );
      relay = `reachable (${list.length} device${list.length === 1 ? '' : 's'} on the account)`;
    } catch (err) {
      if (ClientError.is(err, 'NETWORK') || ClientError.is(err, 'TIMEOUT')) relay = 'NOT reachable';
      else if (ClientError.is(err, 'DEREGISTERED'))
        relay = 'reachable, but it no longer accepts this device';
      else throw err;
    }
    const rows: string[][] = [
      ['profile', profileDir],
      [
        'store',
        `${d.path} — AES-256-GCM, key wrapped by Argon2id (m=${d.argon2id.memoryKiB} KiB, t=${d.argon2id.timeCost}, p=${d.argon2id.parallelism})${d.keychainWrap ? ' and the OS keychain' : ''}; journal ${d.journalMode}, synchronous=${d.synchronous}`,
      ],
      [
        'account',
        `${account.number ?? '(number unknown)'} — device ${account.deviceId}${account.primary ? ' (primary)' : ''}`,
      ],
      ['server', `${serverUrl} — ${relay}`],
      ['registration lock', (await client.registrationLockEnabled()) ? 'on' : 'off'],
      [
        'outbox',
        `${client.pendingSends} message${client.pendingSends === 1 ? '' : 's'} waiting to be sent`,
      ],
    ];
    process.stdout.write(table(['', ''], rows).split('\n').slice(1).join('\n'));
  });
}
