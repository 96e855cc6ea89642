/**
 * A real, private Secret Service for tests of `SecretServiceKeychain` and of the CLI: a D-Bus
 * session bus of its own (`dbus-daemon` with a configuration that activates no services, so
 * nothing of the machine's desktop is started or touched) and, unless `keyring: false`, a
 * `gnome-keyring-daemon` on it with a fresh "Login" keyring unlocked by a throwaway password, its
 * files under a temporary HOME. `env` is what a keychain (or a child process) needs to use it;
 * `stop()` ends both daemons (by the ids of the processes started here) and removes the files.
 *
 * Needs `dbus-daemon`, `dbus-send`, `gnome-keyring-daemon` and `secret-tool` (Debian packages
 * gnome-keyring and libsecret-tools); `secretServiceToolsMissing()` names the missing ones.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const TOOLS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool'] as const;
/** How long the daemons may take to come up. */
const START_TIMEOUT_MS = 15_000;
/** The throwaway password of the test keyring (it protects nothing). */
const KEYRING_PASSWORD = 'sotto test keyring';

/** The tools from TOOLS that are not on PATH (empty when a private Secret Service can run). */
export function secretServiceToolsMissing(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  return TOOLS.filter(
    (tool) =>
      !dirs.some((dir) => {
        try {
          accessSync(join(dir, tool), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

export interface PrivateSecretService {
  /** process.env with the private bus, HOME and XDG directories. */
  readonly env: NodeJS.ProcessEnv;
  /** Locks the "Login" keyring (as a screen lock or a logout would). */
  lock(): void;
  stop(): Promise<void>;
}

function busConfig(dir: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined) return;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited(child);
}

function readAddress(bus: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address')), 5000);
    bus.stdout!.setEncoding('utf8');
    bus.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    bus.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited (${String(code)})`));
    });
  });
}

/** Starts a private session bus and (unless `keyring: false`) an unlocked gnome-keyring on it. */
export async function startPrivateSecretService(
  options: { readonly keyring?: boolean } = {},
): Promise<PrivateSecretService> {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-secret-service-'));
  const home = join(dir, 'home');
  const runtime = join(dir, 'run');
  for (const d of [home, runtime, join(dir, 'bus')]) mkdirSync(d, { mode: 0o700 });
  writeFileSync(join(dir, 'bus.conf'), busConfig(join(dir, 'bus')));

  let bus: ChildProcess | undefined;
  let keyring: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await stopChild(keyring);
    await stopChild(bus);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    bus = spawn(
      'dbus-daemon',
      ['--config-file', join(dir, 'bus.conf'), '--nofork', '--print-address=1'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const address = await readAddress(bus);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_RUNTIME_DIR: runtime,
      DBUS_SESSION_BUS_ADDRESS: address,
    };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    if (options.keyring !== false) {
      keyring = spawn(
        'gnome-keyring-daemon',
        ['--foreground', '--unlock', '--components=secrets'],
        { env, stdio: ['pipe', 'ignore', 'ignore'] },
      );
      keyring.stdin!.end(KEYRING_PASSWORD);
      await waitForSecrets(env, keyring);
    }
    return {
      env,
      lock() {
        const r = spawnSync(
          'dbus-send',
          [
            '--session',
            '--print-reply',
            '--dest=org.freedesktop.secrets',
            '/org/freedesktop/secrets',
            'org.freedesktop.Secret.Service.Lock',
            'array:objpath:/org/freedesktop/secrets/collection/login',
          ],
          { env, encoding: 'utf8' },
        );
        if (r.status !== 0) throw new Error(`could not lock the test keyring: ${r.stderr}`);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until the keyring owns org.freedesktop.secrets and answers a search. */
async function waitForSecrets(env: NodeJS.ProcessEnv, keyring: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (keyring.exitCode !== null) throw new Error('gnome-keyring-daemon exited at start');
    const probe = spawnSync('secret-tool', ['search', 'service', 'sotto-probe', 'account', 'x'], {
      env,
      encoding: 'utf8',
    });
    if (probe.status === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the test keyring did not come up: ${probe.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
