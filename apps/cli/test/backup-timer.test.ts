/**
 * The crontab line and systemd units that `sotto backup schedule daily` prints: every word quoted
 * for its reader (sh through cron, systemd's command-line parser), nothing secret in them. The
 * printed crontab line is also run for real in backup.slow.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  backupTimerSnippets,
  cronLine,
  cronWord,
  systemdWord,
} from '../src/commands/backup-timer.js';

const COMMAND = ['/opt/node/bin/node', '/opt/sotto/main.js'];

describe('backup timer snippets', () => {
  it('quotes words for sh, with cron\'s "%" escaped', () => {
    expect(cronWord('/home/al ice/.sotto')).toBe(`'/home/al ice/.sotto'`);
    expect(cronWord(`it's`)).toBe(`'it'\\''s'`);
    expect(cronWord('50%')).toBe(`'50\\%'`);
    // What sh makes of the quoted words (cron removes the backslash before % itself).
    const words = ['a b', `it's`, '$HOME', '`x`', '"q"'];
    const echoed = spawnSync('sh', ['-c', `printf '%s\\n' ${words.map(cronWord).join(' ')}`], {
      encoding: 'utf8',
    });
    expect(echoed.stdout).toBe(words.map((w) => `${w}\n`).join(''));
  });

  it("quotes words for systemd's ExecStart", () => {
    expect(systemdWord('/home/al ice/.sotto')).toBe('"/home/al ice/.sotto"');
    expect(systemdWord('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(systemdWord('50%')).toBe('"50%%"');
    expect(systemdWord('$HOME')).toBe('"$$HOME"');
  });

  it('prints an hourly --if-due job for cron and systemd, naming what the job needs', () => {
    const options = { profileDir: '/home/alice/.sotto', keychain: false, s3: false };
    expect(cronLine({ ...options, command: COMMAND })).toBe(
      `17 * * * * '/opt/node/bin/node' '/opt/sotto/main.js' '--profile' '/home/alice/.sotto' 'backup' 'create' '--if-due' >/dev/null`,
    );
    const text = backupTimerSnippets({ ...options, command: COMMAND });
    expect(text).toContain(cronLine({ ...options, command: COMMAND }));
    expect(text).toContain(
      'ExecStart="/opt/node/bin/node" "/opt/sotto/main.js" "--profile" "/home/alice/.sotto" "backup" "create" "--if-due"\n',
    );
    expect(text).toMatch(/^OnCalendar=hourly\nPersistent=true$/m);
    expect(text).toContain('SOTTO_PASSPHRASE');
    expect(text).not.toContain('SOTTO_S3_ENDPOINT');

    const keychain = backupTimerSnippets({
      ...options,
      keychain: true,
      s3: true,
      command: COMMAND,
    });
    expect(keychain).toMatch(/opens with the OS keychain/);
    expect(keychain).not.toContain('SOTTO_PASSPHRASE');
    expect(keychain).toContain('SOTTO_S3_ENDPOINT');
  });

  it('spells out the running command by default (node, its flags, the script)', () => {
    const line = cronLine({ profileDir: '/p', keychain: false, s3: false });
    expect(line).toContain(cronWord(process.execPath));
    expect(line).toContain(cronWord(process.argv[1]!));
  });
});
