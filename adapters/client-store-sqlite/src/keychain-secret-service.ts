/**
 * `SecretServiceKeychain`: the `KeychainPort` on the freedesktop.org Secret Service API
 * (https://specifications.freedesktop.org/secret-service-spec/latest/), which GNOME Keyring,
 * KWallet (5.97+) and KeePassXC provide on Linux and the BSDs. It drives libsecret's command-line
 * tool `secret-tool` (Debian/Ubuntu package `libsecret-tools`, Fedora/Arch `libsecret`) rather than
 * a native D-Bus binding: no compiled dependency, and the tool is the reference client.
 *
 * - An entry is an item with the attributes `service <service> account <account>` in the default
 *   collection (usually "Login", unlocked when the user logs in to the desktop session).
 * - Secret Service items hold text, so a secret is stored as its base64 text and checked strictly
 *   when read back; anything else is KEYCHAIN_ENTRY_INVALID.
 * - The secret travels only through the tool's standard input and output: never on its command
 *   line (visible in `ps`) nor in its environment. The tool runs without a shell (`execFile` with
 *   an argument array), with a timeout, and its output buffers are zeroed after use. JavaScript
 *   cannot guarantee zeroisation: the base64 text also exists as a string until collected.
 * - Errors never contain a secret: they say which of the typed failures happened (tool missing,
 *   no Secret Service, locked keychain, timeout, malformed entry) and what to do about it.
 *
 * What the keychain protects against, and what not (docs/cli.md "Data at rest"): it keeps the
 * store's wrapping key out of the profile directory, so a copied disk or backup of the profile
 * still needs the passphrase. Anyone (or any program) running as the user while the keychain is
 * unlocked can read the entry and open the store; the passphrase wrap always remains, as the
 * recovery path when the keychain entry is lost.
 *
 * Other platforms would be other adapters of the same port, not built: the macOS Keychain
 * (Security framework, or `/usr/bin/security`, which takes a secret only on its command line or a
 * prompt) and the Windows Credential Manager (`CredWriteW`/`CredReadW`, needing a native binding).
 */
import { execFile } from 'node:child_process';
import { SqliteClientStoreError } from './errors.js';
import type { KeychainPort } from './keychain.js';
import {
  KEYCHAIN_MAX_NAME_LENGTH,
  KEYCHAIN_MAX_OUTPUT_BYTES,
  KEYCHAIN_TIMEOUT_MS,
} from './limits.js';

export interface SecretServiceKeychainOptions {
  /**
   * The environment of `secret-tool` (default `process.env`). `DBUS_SESSION_BUS_ADDRESS` in it
   * selects the session whose Secret Service is used; `PATH` is where the tool is looked for.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** The tool to run (default `secret-tool`, looked up on PATH). */
  readonly command?: string;
  /** How long one call may take (default KEYCHAIN_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** The label keychain managers (Seahorse, KWalletManager) show for an entry. */
  readonly label?: (service: string, account: string) => string;
}

/** What one run of the tool gave: its exit code and output (stdout zeroed by the caller). */
interface ToolResult {
  readonly exitCode: number;
  readonly stdout: Buffer;
  /** The first line of stderr, without the tool's name; never contains a secret. */
  readonly problem: string;
}

/** Strict base64 (RFC 4648 §4, padded), as `Buffer#toString('base64')` writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Names are passed as arguments: printable, no control characters, never taken for an option. */
const NAME = /^[^\p{Cc}\s-][^\p{Cc}]*$/u;
/** A line of `secret-tool search` output that starts an item, e.g. `[/1]`. */
const SEARCH_ITEM = /^\[\//m;
/** Probe names for `check()`: no entry of Sotto has them. */
const PROBE = ['service', 'sotto-keychain-check', 'account', 'probe'] as const;

const defaultLabel = (service: string, account: string): string =>
  `Sotto ${service} key (${account})`;

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > KEYCHAIN_MAX_NAME_LENGTH || !NAME.test(value)) {
    throw new SqliteClientStoreError(
      'BAD_ARGUMENT',
      `the keychain ${what} must be 1–${KEYCHAIN_MAX_NAME_LENGTH} printable characters, not starting with "-"`,
    );
  }
  return value;
}

function firstLine(stderr: Buffer): string {
  const line =
    stderr
      .toString('utf8')
      .split(/\r?\n/)
      .find((l) => l.trim().length > 0) ?? '';
  // Control characters out (a terminal escape in a message is never wanted), bounded length.
  return line
    .replace(/^secret-tool:\s*/, '')
    .replace(/\p{Cc}/gu, '')
    .slice(0, 200);
}

function unavailable(problem: string): SqliteClientStoreError {
  if (/locked/i.test(problem)) return locked();
  return new SqliteClientStoreError(
    'KEYCHAIN_UNAVAILABLE',
    `the OS keychain is not available (${problem || 'secret-tool failed'}): is a Secret Service (GNOME Keyring, KWallet, KeePassXC) running in this session?`,
  );
}

function locked(): SqliteClientStoreError {
  return new SqliteClientStoreError(
    'KEYCHAIN_UNAVAILABLE',
    'the OS keychain is locked: unlock it (log in to the desktop session or unlock the keyring) and try again',
  );
}

function malformed(): SqliteClientStoreError {
  return new SqliteClientStoreError(
    'KEYCHAIN_ENTRY_INVALID',
    "the OS keychain's entry is malformed (it was not written by Sotto, or was changed)",
  );
}

export class SecretServiceKeychain implements KeychainPort {
  readonly #env: NodeJS.ProcessEnv;
  readonly #command: string;
  readonly #timeoutMs: number;
  readonly #label: (service: string, account: string) => string;

  constructor(options: SecretServiceKeychainOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#command = options.command ?? 'secret-tool';
    this.#timeoutMs = options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS;
    this.#label = options.label ?? defaultLabel;
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new SqliteClientStoreError('BAD_ARGUMENT', 'timeoutMs must be a positive integer');
    }
  }

  toJSON(): { keychain: string } {
    return { keychain: 'secret-service' };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SecretServiceKeychain {}';
  }

  async get(service: string, account: string): Promise<Uint8Array | undefined> {
    const attributes = this.#attributes(service, account);
    const result = await this.#run(['lookup', ...attributes]);
    try {
      if (result.exitCode === 0) return decodeEntry(result.stdout);
      if (result.problem.length > 0) throw unavailable(result.problem);
      // Exit 1 without a word: no such entry — or a locked one (lookup cannot tell them apart).
      await this.#failIfLockedEntry(attributes);
      return undefined;
    } finally {
      result.stdout.fill(0);
    }
  }

  async set(service: string, account: string, secret: Uint8Array): Promise<void> {
    const attributes = this.#attributes(service, account);
    if (!(secret instanceof Uint8Array) || secret.length === 0) {
      throw new SqliteClientStoreError('BAD_ARGUMENT', 'the secret must be a non-empty Uint8Array');
    }
    const input = Buffer.from(Buffer.from(secret).toString('base64'), 'ascii');
    try {
      const result = await this.#run(
        ['store', `--label=${this.#label(service, account)}`, ...attributes],
        input,
      );
      result.stdout.fill(0);
      if (result.exitCode !== 0) throw unavailable(result.problem);
    } finally {
      input.fill(0);
    }
  }

  async delete(service: string, account: string): Promise<void> {
    const attributes = this.#attributes(service, account);
    const result = await this.#run(['clear', ...attributes]);
    result.stdout.fill(0);
    if (result.exitCode === 0) return;
    if (result.problem.length > 0) throw unavailable(result.problem);
    // Exit 1 without a word: nothing was removed — fine if there was nothing, not if it is locked.
    await this.#failIfLockedEntry(attributes);
  }

  /**
   * Throws KEYCHAIN_NOT_INSTALLED or KEYCHAIN_UNAVAILABLE unless the tool runs and a Secret
   * Service answers (a locked keychain is only noticed when an entry is written or read).
   */
  async check(): Promise<void> {
    const result = await this.#run(['lookup', ...PROBE]);
    result.stdout.fill(0);
    if (result.exitCode !== 0 && result.problem.length > 0) throw unavailable(result.problem);
  }

  #attributes(service: string, account: string): string[] {
    return ['service', checkName(service, 'service'), 'account', checkName(account, 'account')];
  }

  /** After a silent miss: an item that `search` lists although `lookup` found none is locked. */
  async #failIfLockedEntry(attributes: readonly string[]): Promise<void> {
    const search = await this.#run(['search', ...attributes]);
    // An unlocked item's search output holds its secret: only look for an item header, then wipe.
    const listed = SEARCH_ITEM.test(search.stdout.toString('latin1'));
    search.stdout.fill(0);
    if (listed || /locked/i.test(search.problem)) throw locked();
    if (search.exitCode !== 0 && search.problem.length > 0) throw unavailable(search.problem);
  }

  #run(args: readonly string[], input?: Buffer): Promise<ToolResult> {
    return new Promise<ToolResult>((resolve, reject) => {
      const child = execFile(
        this.#command,
        args,
        {
          env: this.#env,
          encoding: 'buffer',
          timeout: this.#timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: KEYCHAIN_MAX_OUTPUT_BYTES,
          windowsHide: true,
        },
        (err, stdout, stderr) => {
          const problem = firstLine(stderr);
          if (err === null) {
            resolve({ exitCode: 0, stdout, problem });
            return;
          }
          stdout.fill(0);
          // The error object carries the output (a secret, for lookup): it is never passed on.
          const code: unknown = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            reject(
              new SqliteClientStoreError(
                'KEYCHAIN_NOT_INSTALLED',
                `the OS keychain cannot be used: ${this.#command} is not installed (Debian/Ubuntu: apt install libsecret-tools; Fedora, Arch: libsecret)`,
              ),
            );
          } else if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            reject(malformed());
          } else if (typeof code === 'number') {
            resolve({ exitCode: code, stdout: Buffer.alloc(0), problem });
          } else if (err.killed) {
            reject(
              new SqliteClientStoreError(
                'KEYCHAIN_UNAVAILABLE',
                `the OS keychain did not answer within ${Math.round(this.#timeoutMs / 1000)} s (an unlock prompt left open?)`,
              ),
            );
          } else {
            reject(unavailable(problem || `${this.#command} could not be run (${String(code)})`));
          }
        },
      );
      // The tool may exit before reading its input (e.g. no Secret Service): not an error here.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    });
  }
}

/** The bytes of a stored entry: base64 text, optionally followed by one line break. */
function decodeEntry(stdout: Buffer): Uint8Array {
  const text = stdout.toString('latin1').replace(/\r?\n$/, '');
  if (text.length === 0 || !BASE64.test(text)) throw malformed();
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    bytes.fill(0);
    throw malformed(); // non-zero padding bits: not what `set` wrote
  }
  const secret = new Uint8Array(bytes);
  bytes.fill(0);
  return secret;
}
