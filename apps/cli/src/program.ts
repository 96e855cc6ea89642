/**
 * The `sotto` command line (commander): commands, options and help texts. Every action only parses
 * its arguments and calls a command module; `runCli` turns any failure into one line on stderr and
 * an exit code (cli-error.ts), never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError, describeFailure, EXIT } from './cli-error.js';
import {
  backupCreate,
  backupDelete,
  backupKey,
  backupList,
  backupRestore,
  backupSchedule,
} from './commands/backup.js';
import { chat } from './commands/chat.js';
import { alias, contacts } from './commands/contacts.js';
import { devices } from './commands/devices.js';
import { addDevice, link } from './commands/link.js';
import { keychain } from './commands/keychain.js';
import { changePassphrase } from './commands/passphrase.js';
import { pin } from './commands/pin.js';
import { register } from './commands/register.js';
import { safetyNumber, verify } from './commands/safety-number.js';
import { send } from './commands/send.js';
import { status } from './commands/status.js';
import { profileDirectory } from './profile.js';
import type { GlobalOptions, RunContext } from './session.js';

export const VERSION = '0.1.0';

const ENVIRONMENT_HELP = `
Environment:
  SOTTO_PROFILE          profile directory (like --profile; default ~/.sotto)
  SOTTO_SERVER           relay URL (like --server)
  SOTTO_PASSPHRASE       the profile's passphrase (otherwise it is asked for, without echo)
  SOTTO_NEW_PASSPHRASE   the new passphrase for "passphrase change"
  SOTTO_PIN              the PIN for "pin set" / "pin change", and of a locked number for "register"
  SOTTO_VAULT_URL        the key vault's URL when it does not run inside the relay
  SOTTO_RECOVERY_KEY     the recovery key for "backup restore"
  SOTTO_BACKUP_PASSWORD  the backup password ("backup restore --password", "backup key password")
  SOTTO_S3_ENDPOINT      an S3-compatible endpoint for s3: backup locations (AWS_* for credentials)

Exit codes: 0 ok, 1 failed, 2 usage, 3 refused (wrong passphrase, code or PIN),
4 unavailable (server unreachable, rate limited, profile in use), 130 interrupted.`;

function buildProgram(ctx: RunContext): Command {
  const program = new Command('sotto');
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  program
    .description('End-to-end encrypted messaging from the terminal (Sotto).')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--profile <dir>', 'profile directory: one identity per directory'))
    .addOption(new Option('--server <url>', 'relay URL (saved in the profile at registration)'))
    .addHelpText('after', ENVIRONMENT_HELP)
    .enablePositionalOptions(false)
    .exitOverride()
    .configureOutput({
      // One line: "sotto: <reason> (sotto --help lists the commands)".
      outputError: (text, write) =>
        write(
          `sotto: ${text.replace(/^error: /, '').trimEnd()} (sotto --help lists the commands)\n`,
        ),
    });

  program
    .command('register')
    .description('register a phone number (asks the server to send a verification code by SMS)')
    .argument('<number>', 'phone number in E.164 form, e.g. +14155550100')
    .option('--code <code>', 'a 6-digit code sent earlier (skips requesting a new one)')
    .option(
      '--keychain',
      'also unlock the new profile with the OS keychain (no passphrase prompts)',
    )
    .action((number: string, options: { code?: string; keychain?: boolean }) =>
      register(number, options, globals(), ctx),
    );

  const pinCommand = program
    .command('pin')
    .description('the two-step PIN (registration lock) of the account');
  for (const [action, description] of [
    ['set', 'turn the registration lock on with a PIN'],
    ['change', 'choose a new PIN'],
    ['remove', 'turn the registration lock off'],
  ] as const) {
    pinCommand
      .command(action)
      .description(description)
      .action(() => pin(action, globals(), ctx));
  }

  program
    .command('send')
    .description('send a message and wait until the server accepted it')
    .argument('<contact>', 'phone number or alias')
    .argument('<text...>', 'the message')
    .action((contact: string, words: string[]) => send(contact, words, globals(), ctx));

  program
    .command('chat')
    .description('an interactive conversation: messages, receipts and warnings as they arrive')
    .argument('<contact>', 'phone number or alias')
    .action((contact: string) => chat(contact, globals(), ctx));

  program
    .command('contacts')
    .description('list contacts and the state of their safety numbers')
    .action(() => contacts(globals(), ctx));

  const aliasCommand = program.command('alias').description('local names for phone numbers');
  aliasCommand
    .command('set')
    .description('name a phone number')
    .argument('<name>')
    .argument('<number>')
    .action((name: string, number: string) => alias('set', name, number, globals(), ctx));
  aliasCommand
    .command('remove')
    .description('forget a name')
    .argument('<name>')
    .action((name: string) => alias('remove', name, undefined, globals(), ctx));

  program
    .command('safety-number')
    .description('show the safety number with a contact (digits and QR code)')
    .argument('<contact>', 'phone number or alias')
    .option('--no-qr', 'digits only')
    .option('--payload', "print the QR code's payload (base64) for the contact's verify --payload")
    .action((contact: string, options: { qr: boolean; payload?: boolean }) =>
      safetyNumber(contact, options, globals(), ctx),
    );

  program
    .command('verify')
    .description('mark a contact verified after comparing safety numbers')
    .argument('<contact>', 'phone number or alias')
    .option('-y, --yes', 'the numbers were compared and match: do not ask')
    .option('--payload <base64>', "check the contact's safety-number payload instead of asking")
    .option('--clear', 'remove the verified mark')
    .action((contact: string, options: { yes?: boolean; payload?: string; clear?: boolean }) =>
      verify(contact, options, globals(), ctx),
    );

  const devicesCommand = program
    .command('devices')
    .description("list the account's devices (or add one: devices add <uri>)")
    .action(() => devices(globals(), ctx));
  devicesCommand
    .command('add')
    .description('primary device: link the new device that shows this URI (from "sotto link")')
    .argument('<uri>', 'the sotto://link?… URI the new device printed (or its QR code)')
    .action((uri: string) => addDevice(uri, globals(), ctx));

  program
    .command('link')
    .description('make this (new) profile another device of an existing account')
    .option('--no-qr', 'print the link URI only')
    .option(
      '--keychain',
      'also unlock the new profile with the OS keychain (no passphrase prompts)',
    )
    .action((options: { qr: boolean; keychain?: boolean }) => link(options, globals(), ctx));

  program
    .command('status')
    .description('profile, store protection, account, server and outbox')
    .action(() => status(globals(), ctx));

  program
    .command('passphrase')
    .description("the profile's passphrase")
    .command('change')
    .description('choose a new passphrase (re-wraps the store key)')
    .action(() => changePassphrase(globals(), ctx));

  const keychainCommand = program
    .command('keychain')
    .description('unlock the profile with the OS keychain instead of typing the passphrase');
  for (const [action, description] of [
    ['enable', 'let the OS keychain unlock this profile (asks for the passphrase once)'],
    ['disable', 'remove the keychain entry: sotto asks for the passphrase again'],
    ['status', 'whether the OS keychain unlocks this profile'],
  ] as const) {
    keychainCommand
      .command(action)
      .description(description)
      .action(() => keychain(action, globals(), ctx));
  }

  const backupCommand = program
    .command('backup')
    .description('end-to-end encrypted backups: create, restore, list, delete, schedule, key');
  const where = 'relay (default), dir:<path> or s3:<bucket>[/<prefix>]';
  backupCommand
    .command('create')
    .description('back up contacts, verification states, messages and settings')
    .option('--to <where>', where)
    .option('--keep <n>', 'keep only the newest n backups there (default: the saved setting)')
    .option(
      '--if-due',
      'only if the schedule says one is due, to its location (for cron or a systemd timer)',
    )
    .action((options: { to?: string; keep?: string; ifDue?: boolean }) =>
      backupCreate(options, globals(), ctx),
    );
  backupCommand
    .command('restore')
    .description('restore a backup onto this new profile and register the number again')
    .argument('<number>', 'the phone number the backup belongs to (E.164)')
    .option('--from <where>', where)
    .option('--name <name>', 'which backup (default: the newest)')
    .option('--password', 'open it with the backup password instead of the recovery key')
    .option('--code <code>', 'a 6-digit code sent earlier (skips requesting a new one)')
    .action(
      (
        number: string,
        options: { from?: string; name?: string; password?: boolean; code?: string },
      ) => backupRestore(number, options, globals(), ctx),
    );
  backupCommand
    .command('list')
    .description('list the backups in a location')
    .option('--from <where>', where)
    .action((options: { from?: string }) => backupList(options, globals(), ctx));
  backupCommand
    .command('delete')
    .description('delete one backup')
    .argument('<name>', 'the backup, as "backup list" shows it')
    .option('--from <where>', where)
    .action((name: string, options: { from?: string }) =>
      backupDelete(name, options, globals(), ctx),
    );
  backupCommand
    .command('schedule')
    .description(
      'automatic backups: daily or off (they run while "sotto chat" runs, or from a system timer: printed)',
    )
    .argument('<when>', 'daily or off')
    .option('--keep <n>', 'keep the newest n backups (default 3)')
    .option('--to <where>', `where automatic (and default) backups go: ${where}`)
    .action((when: string, options: { keep?: string; to?: string }) =>
      backupSchedule(when, options, globals(), ctx),
    );
  backupCommand
    .command('key')
    .description('the recovery key: show (set one up, shown once), rotate, or password')
    .argument('[action]', 'show (default), rotate, or password', 'show')
    .action((action: string) => {
      if (action !== 'show' && action !== 'rotate' && action !== 'password') {
        throw new CliError('USAGE', 'backup key takes show, rotate or password');
      }
      return backupKey(action, globals(), ctx);
    });

  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const ctx: RunContext = { profileDir: profileDirectory(undefined) };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return EXIT.OK;
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
        return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      }
      return EXIT.USAGE; // commander already printed the one-line reason
    }
    const failure = describeFailure(err, ctx);
    process.stderr.write(`sotto: ${failure.message}\n`);
    if (process.env.SOTTO_DEBUG === '1' && err instanceof Error && err.stack !== undefined) {
      process.stderr.write(`${err.stack}\n`);
    }
    return failure.exitCode;
  }
}
