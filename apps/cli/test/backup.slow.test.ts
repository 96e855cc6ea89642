/**
 * `sotto backup` through the real binary and a real relay process: setting up the recovery key
 * (shown once, typed back), creating, listing, scheduling and deleting backups in a directory,
 * and restoring onto a new profile that then goes on messaging — plus the refusals (a wrong
 * recovery key, backups without a key).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_ARGS, REPO_ROOT, runSotto, type SottoResult } from './support/cli-process.js';
import { expectOneLineFailure, startWorld, type World } from './support/profiles.js';

const ALICE = '+14155550301';
const BOB = '+14155550302';

let world: World;
beforeAll(async () => {
  world = await startWorld();
}, 60_000);
afterAll(async () => {
  await world.stop();
});

/**
 * Runs `sotto` and answers the recovery-key confirmation with the key it printed on stdout
 * (`runSotto` answers from stderr prompts only; this one needs to read what was shown).
 */
function runKeySetup(profile: string, args: readonly string[], typed?: (shown: string) => string) {
  const child = spawn(process.execPath, [...NODE_ARGS, '--profile', profile, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...world.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let answered = false;
  const answer = (): void => {
    const m = /Recovery key:\n\n {4}([0-9a-z ]{79})\n/.exec(stdout);
    if (answered || m === null || !/Type the recovery key/.test(stderr)) return;
    answered = true;
    child.stdin.write(`${typed === undefined ? m[1]! : typed(m[1]!)}\n`);
    child.stdin.end();
  };
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    answer();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    answer();
  });
  return new Promise<SottoResult & { key: string | undefined }>((resolve) => {
    child.on('exit', (code) => {
      const key = /Recovery key:\n\n {4}([0-9a-z ]{79})\n/.exec(stdout)?.[1];
      resolve({ code, stdout, stderr, key });
    });
  });
}

describe('sotto backup', () => {
  it('sets up a key, backs up to a directory, restores on a new profile, and goes on', async () => {
    await world.register('alice', ALICE);
    await world.register('bob', BOB);
    expect((await world.sotto('alice', ['alias', 'set', 'bobby', BOB])).code).toBe(0);
    expect((await world.sotto('alice', ['send', 'bobby', 'before the backup'])).code).toBe(0);
    const dir = mkdtempSync(join(world.dir, 'backups-'));
    const to = `dir:${dir}`;

    // Without a key there is no backup, and the message says what to do.
    const refused = await world.sotto('alice', ['backup', 'create', '--to', to]);
    expectOneLineFailure(refused, 2, /sotto backup key/);

    // A typed-back key that differs changes nothing.
    const mistyped = await runKeySetup(world.profile('alice'), ['backup', 'key'], () => 'abcd');
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).toMatch(/not the key shown; nothing was changed/);
    const setup = await runKeySetup(world.profile('alice'), ['backup', 'key']);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stderr).toMatch(/if you lose both, nobody/);
    expect(setup.stdout).toContain('Recovery key confirmed.');
    const recoveryKey = setup.key!;
    // Shown once on stdout, never on stderr (logs); the typed-back copy is not echoed.
    expect(setup.stderr).not.toContain(recoveryKey);
    expect(setup.stdout.split(recoveryKey)).toHaveLength(2);
    expect(recoveryKey).not.toBe(mistyped.key);
    // It is never shown again.
    const shown = await world.sotto('alice', ['backup', 'key', 'show']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/A recovery key is set .*cannot be shown again/);
    expect(shown.stdout + shown.stderr).not.toContain(recoveryKey);

    const created = await world.sotto('alice', ['backup', 'create', '--to', to]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /^Backup sotto-backup-\d{8}T\d{9}Z-[a-z2-7]{8}\.sbk \(.+, \d+ records\) stored in dir:/,
    );
    expect(created.stderr).toMatch(/Backing up +\[#{24}\] +100% +(\d+) records of \1 records/);
    const name = /Backup (\S+)/.exec(created.stdout)![1]!;
    expect(readdirSync(dir)).toEqual([name]);

    // The default location is the relay; a password goes to the relay's key vault.
    const password = await world.sotto('alice', ['backup', 'key', 'password'], {
      SOTTO_BACKUP_PASSWORD: 'a long backup password',
    });
    expect(password.code, password.stderr).toBe(0);
    expect(password.stdout).toBe('Backup password set.\n');
    const onRelay = await world.sotto('alice', ['backup', 'create']);
    expect(onRelay.code, onRelay.stderr).toBe(0);
    expect(onRelay.stdout).toMatch(/stored in relay\.\n$/);
    const relayList = await world.sotto('alice', ['backup', 'list']);
    expect(relayList.stdout).toMatch(/^sotto-backup-\S+\.sbk {2}\d{4}-\S+ {2}[\d.]+ kB\n$/);

    const listed = await world.sotto('alice', ['backup', 'list', '--from', to]);
    expect(listed.stdout).toMatch(new RegExp(`^${name.replaceAll('.', '\\.')}  \\d{4}-`));
    const scheduled = await world.sotto('alice', [
      'backup',
      'schedule',
      'daily',
      '--keep',
      '2',
      '--to',
      to,
    ]);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toContain('Automatic backups daily to dir:');
    expect(scheduled.stdout).toContain('keeping the newest 2');

    // A wrong recovery key: refused, and the new profile is not left behind.
    const wrong = await world.sotto(
      'alice-wrong',
      ['--server', world.relay.url, 'backup', 'restore', ALICE, '--from', to, '--code', '123456'],
      { SOTTO_RECOVERY_KEY: 'x'.repeat(64) },
    );
    expectOneLineFailure(wrong, 3, /not a valid recovery key/);
    expect(existsSync(join(world.profile('alice-wrong'), 'store.sqlite'))).toBe(false);

    // The device is lost; a new profile restores with the recovery key and the SMS code.
    const restored = await runSotto(
      [
        '--profile',
        world.profile('alice2'),
        '--server',
        world.relay.url,
        'backup',
        'restore',
        ALICE,
        '--from',
        to,
      ],
      {
        env: { ...world.env, SOTTO_RECOVERY_KEY: recoveryKey.toUpperCase() },
        answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(ALICE) }],
      },
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout + restored.stderr).not.toContain(recoveryKey);
    expect(restored.stdout).toMatch(
      /^Restored \+14155550301 from sotto-backup-.* 1 contact\(s\), 1 message\(s\)\./,
    );
    expect(restored.stderr).toMatch(/Restoring +\[#{24}\] +100%/);

    // The alias came back; both go on messaging (bob's client re-establishes the session).
    const sent = await world.sotto('alice2', ['send', 'bobby', 'after the restore']);
    expect(sent.code, sent.stderr).toBe(0);
    const reply = await world.sotto('bob', ['send', ALICE, 'welcome back']);
    expect(reply.code, reply.stderr).toBe(0);
    const contacts = await world.sotto('alice2', ['contacts']);
    expect(contacts.stdout).toMatch(new RegExp(`bobby +\\${BOB}`));

    const deleted = await world.sotto('alice2', ['backup', 'delete', name, '--from', to]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  }, 180_000);

  it('backup create --if-due, run by a system timer, backs up only when one is due', async () => {
    const DAVE = '+14155550304';
    await world.register('dave', DAVE);
    expect((await runKeySetup(world.profile('dave'), ['backup', 'key'])).code).toBe(0);
    const dir = mkdtempSync(join(world.dir, 'timer-backups-'));
    const ifDue = (env: Record<string, string> = {}) =>
      world.sotto('dave', ['backup', 'create', '--if-due'], env);
    /** Runs sotto as if `hours` had passed: Date.now shifted in the child process only. */
    const later = (hours: number): Record<string, string> => {
      const clock = join(world.dir, `clock-${hours}h.mjs`);
      writeFileSync(
        clock,
        `const real = Date.now;\nDate.now = () => real() + ${hours} * 3_600_000;\n`,
      );
      return { NODE_OPTIONS: `--import=${clock}` };
    };

    // Off: nothing to do, exit 0.
    const off = await ifDue();
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toMatch(/Automatic backups are off/);
    expect(readdirSync(dir)).toEqual([]);
    expectOneLineFailure(
      await world.sotto('dave', ['backup', 'create', '--if-due', '--to', `dir:${dir}`]),
      2,
      /leave out --to and --keep/,
    );

    // Scheduling prints the crontab line and the systemd units that run --if-due.
    const scheduled = await world.sotto('dave', [
      'backup',
      'schedule',
      'daily',
      '--keep',
      '2',
      '--to',
      `dir:${dir}`,
    ]);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    const cron = /^17 \* \* \* \* (.+)$/m.exec(scheduled.stdout);
    expect(cron, scheduled.stdout).not.toBeNull();
    expect(cron![1]).toContain(
      `'--profile' '${world.profile('dave')}' 'backup' 'create' '--if-due'`,
    );
    expect(scheduled.stdout).toMatch(/^ExecStart=".+" "backup" "create" "--if-due"$/m);
    expect(scheduled.stdout).toMatch(/^OnCalendar=hourly$/m);
    expect(scheduled.stdout).toMatch(/SOTTO_PASSPHRASE/);
    expect(scheduled.stdout).not.toContain(world.env.SOTTO_PASSPHRASE!);

    // The crontab line as printed (cron runs it with sh): never backed up, so one is due now.
    const byCron = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        // Not from the repository: a timer's job runs elsewhere.
        const child = spawn('sh', ['-c', cron![1]!], {
          cwd: world.dir,
          env: { ...process.env, ...world.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      },
    );
    expect(byCron.code, byCron.stderr).toBe(0);
    // Quiet on success (cron mails what a job prints): no output, not even a progress line.
    expect(byCron.stdout + byCron.stderr).toBe('');
    const first = readdirSync(dir);
    expect(first).toHaveLength(1);

    // Not due an hour later: nothing made.
    const notDue = await ifDue(later(1));
    expect(notDue.code, notDue.stderr).toBe(0);
    expect(notDue.stdout).toMatch(/^No backup due yet \(the next one is due at \d{4}-.+Z\)\.\n$/);
    expect(notDue.stderr).not.toMatch(/Backing up/);
    expect(readdirSync(dir)).toEqual(first);

    // A day later: one backup; two days later another, and retention keeps the newest 2.
    const due = await ifDue(later(24));
    expect(due.code, due.stderr).toBe(0);
    expect(due.stdout).toMatch(/^Backup sotto-backup-\S+ \(.+\) stored in dir:/);
    expect(readdirSync(dir)).toHaveLength(2);
    const again = await ifDue(later(48));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Removed 1 older backup\(s\)/);
    const kept = readdirSync(dir);
    expect(kept).toHaveLength(2);
    expect(kept).not.toContain(first[0]);

    // While another sotto process holds the profile (as "sotto chat" does, which then makes the
    // scheduled backups itself), the timer's run is not an error.
    const holder = spawn(
      process.execPath,
      [...NODE_ARGS, '--profile', world.profile('dave'), 'backup', 'key', 'password'],
      { cwd: REPO_ROOT, env: { ...process.env, ...world.env }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const holderExited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve) => {
      let stderr = '';
      holder.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/New backup password: $/.test(stderr)) resolve();
      });
    });
    const busy = await ifDue(later(72));
    holder.kill('SIGTERM');
    await holderExited;
    expect(busy.code, busy.stderr).toBe(0);
    expect(busy.stdout).toMatch(/open in another sotto process/);
    expect(readdirSync(dir)).toEqual(kept);
  }, 180_000);

  it('restores from the relay with the backup password and one SMS code', async () => {
    const CAROL = '+14155550303';
    await world.register('carol', CAROL);
    expect((await world.sotto('carol', ['send', BOB, 'carol was here'])).code).toBe(0);
    const password = { SOTTO_BACKUP_PASSWORD: 'carols long backup password' };
    expect((await world.sotto('carol', ['backup', 'key', 'password'], password)).code).toBe(0);
    const created = await world.sotto('carol', ['backup', 'create']);
    expect(created.code, created.stderr).toBe(0);

    const restored = await runSotto(
      [
        '--profile',
        world.profile('carol2'),
        '--server',
        world.relay.url,
        'backup',
        'restore',
        CAROL,
        '--password',
      ],
      {
        env: { ...world.env, ...password },
        answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(CAROL) }],
      },
    );
    expect(restored.code, restored.stderr).toBe(0);
    // One code: the prompt came once.
    expect(restored.stderr.match(/Verification code: /g)).toHaveLength(1);
    expect(restored.stdout).toMatch(
      /^Restored \+14155550303 from sotto-backup-\S+ .*1 contact\(s\), 1 message\(s\)\./,
    );
    const again = await world.sotto('carol2', ['send', BOB, 'carol is back']);
    expect(again.code, again.stderr).toBe(0);
  }, 180_000);
});
