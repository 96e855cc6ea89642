/**
 * What `sotto backup schedule daily` prints so that backups run while `sotto chat` does not
 * (docs/cli.md "Automatic backups"): a crontab line and a systemd user timer that run
 * `sotto backup create --if-due` every hour. Hourly, not daily: the command does nothing until a
 * backup is due, so an hourly check catches up soon after the computer was off or asleep, and the
 * SDK counts a backup due up to 15 minutes early, so the time of day does not creep.
 *
 * The command is the one running now, spelled out in full (Node's path, its flags, the script,
 * the profile), because a timer's environment has neither the user's PATH nor SOTTO_PROFILE.
 * Nothing secret is printed: the passphrase is never part of the command, only named as what the
 * job needs when the OS keychain does not open the profile.
 */

/** Minute past the hour of the cron line (any fixed minute does; not :00, when everything runs). */
const CRON_MINUTE = 17;

export interface TimerSnippetOptions {
  readonly profileDir: string;
  /** The profile opens with the OS keychain (no passphrase needed while the user's keyring is). */
  readonly keychain: boolean;
  /** The scheduled location is an S3 bucket (the job needs its endpoint and credentials). */
  readonly s3: boolean;
  /** The running command; default this process (`process.execPath`, `execArgv`, `argv[1]`). */
  readonly command?: readonly string[];
}

/**
 * The words of the running `sotto`, without its arguments. A module Node preloads by package name
 * (`--import tsx`, the development form) is resolved to its file: a timer's job does not run in
 * this directory.
 */
function thisCommand(): string[] {
  const script = process.argv[1];
  const flags = process.execArgv.map((flag, i, all) =>
    all[i - 1] === '--import' && /^[@a-z]/.test(flag) ? import.meta.resolve(flag) : flag,
  );
  return [process.execPath, ...flags, ...(script === undefined ? [] : [script])];
}

/** One word for `sh` (cron runs its lines with /bin/sh): single-quoted; `%` escaped for cron. */
export function cronWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`.replaceAll('%', '\\%');
}

/** One word for a systemd `ExecStart=` (systemd.service(5) "Command lines"). */
export function systemdWord(word: string): string {
  const escaped = word
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('%', '%%')
    .replaceAll('$', () => '$$');
  return `"${escaped}"`;
}

/** The words of `sotto --profile <dir> backup create --if-due`. */
function ifDueCommand(options: TimerSnippetOptions): string[] {
  return [
    ...(options.command ?? thisCommand()),
    '--profile',
    options.profileDir,
    'backup',
    'create',
    '--if-due',
  ];
}

/** The crontab line (its output only on failure: cron mails what a job prints). */
export function cronLine(options: TimerSnippetOptions): string {
  return `${CRON_MINUTE} * * * * ${ifDueCommand(options).map(cronWord).join(' ')} >/dev/null`;
}

/** The text printed after `backup schedule daily`. */
export function backupTimerSnippets(options: TimerSnippetOptions): string {
  const secrets = options.keychain
    ? 'This profile opens with the OS keychain: the systemd user timer needs no passphrase while your\n' +
      'keyring is unlocked (cron jobs usually cannot reach the keychain).\n'
    : 'The job needs the profile\'s passphrase: turn on the OS keychain ("sotto keychain enable") and use\n' +
      'the systemd user timer, or give the job SOTTO_PASSPHRASE (e.g. EnvironmentFile= naming a file only\n' +
      'you can read) — kept like that, anyone who can read it can open the profile.\n';
  const s3 = options.s3
    ? 'For an s3: location the job also needs SOTTO_S3_ENDPOINT / SOTTO_S3_REGION and the AWS credentials.\n'
    : '';
  return (
    'To back up while "sotto chat" is not running, let the system check every hour (nothing\n' +
    'happens until a backup is due). Either add this line with "crontab -e":\n\n' +
    `${cronLine(options)}\n\n` +
    'or install a systemd user timer, in two files:\n\n' +
    '# ~/.config/systemd/user/sotto-backup.service\n' +
    '[Unit]\n' +
    'Description=Sotto backup, when one is due\n\n' +
    '[Service]\n' +
    'Type=oneshot\n' +
    `ExecStart=${ifDueCommand(options).map(systemdWord).join(' ')}\n\n` +
    '# ~/.config/systemd/user/sotto-backup.timer\n' +
    '[Unit]\n' +
    'Description=Hourly check for a due Sotto backup\n\n' +
    '[Timer]\n' +
    'OnCalendar=hourly\n' +
    'Persistent=true\n\n' +
    '[Install]\n' +
    'WantedBy=timers.target\n\n' +
    'then: systemctl --user daemon-reload && systemctl --user enable --now sotto-backup.timer\n\n' +
    secrets +
    s3
  );
}
