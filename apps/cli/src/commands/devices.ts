/** `sotto devices`: the account's devices as the relay lists them. */
import { withSession, type GlobalOptions, type RunContext } from '../session.js';
import { formatTime, table } from '../terminal/render.js';

export async function devices(globals: GlobalOptions, ctx: RunContext): Promise<void> {
  await withSession(globals, ctx, async ({ client }) => {
    const list = await client.devices();
    const now = Date.now();
    const rows = list.map((d) => [
      String(d.deviceId) + (d.thisDevice ? ' (this one)' : ''),
      d.primary ? 'primary' : 'linked',
      formatTime(d.createdAt, now),
      formatTime(d.lastSeenAt, now),
    ]);
    process.stdout.write(table(['DEVICE', 'ROLE', 'ADDED', 'LAST SEEN'], rows));
  });
}
