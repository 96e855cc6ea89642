/**
 * The OS keychain option through the real `sotto` binary, a real relay and a REAL Secret Service
 * (a private session bus with gnome-keyring, never the machine's own keychain): `register
 * --keychain` and `keychain enable` make later commands run without any passphrase prompt;
 * `keychain disable` brings the prompt back and removes the entry; with the keychain gone, the
 * passphrase still opens the profile; a keychain that cannot be used fails `register --keychain`
 * before any prompt, leaving no profile. CI never skips this (CI=true); elsewhere it skips only when
 * the tools are missing (apt-get install libsecret-tools gnome-keyring).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCHAIN_SERVICE } from '@sotto/client-store-sqlite';
import {
  secretServiceToolsMissing,
  startPrivateSecretService,
  type PrivateSecretService,
} from '@sotto/client-store-sqlite/testing';
import { runSotto, type SottoResult } from './support/cli-process.js';
import { expectOneLineFailure, PASSPHRASE, startWorld, type World } from './support/profiles.js';

const ALICE = '+14155550701';
const missing = secretServiceToolsMissing();

/** The run asked for the passphrase, found none on stdin, and exited 2 without a stack trace. */
function expectPrompted(result: SottoResult): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toBe('Passphrase: sotto: no passphrase given (standard input ended)\n');
}

/** Items Sotto keeps in the test keyring (their attribute lines, secrets never read). */
function keychainEntries(env: NodeJS.ProcessEnv): number {
  const r = spawnSync('secret-tool', ['search', '--all', 'service', KEYCHAIN_SERVICE], {
    env,
    encoding: 'utf8',
  });
  return (r.stdout.match(/^\[\//gm) ?? []).length;
}

describe.skipIf(missing.length > 0 && process.env.CI !== 'true')(
  `sotto with the OS keychain (missing: ${missing.join(', ') || 'none'})`,
  () => {
    let world: World;
    let secrets: PrivateSecretService;
    /** The environment of a run that has the keychain's session bus but no passphrase at all. */
    let noPassphrase: Record<string, string>;

    beforeAll(async () => {
      secrets = await startPrivateSecretService();
      world = await startWorld();
      noPassphrase = {
        SOTTO_PASSPHRASE: '',
        DBUS_SESSION_BUS_ADDRESS: secrets.env.DBUS_SESSION_BUS_ADDRESS!,
      };
    }, 90_000);
    afterAll(async () => {
      await world?.stop();
      await secrets?.stop();
    });

    it('register --keychain: later commands need no passphrase; disable brings the prompt back', async () => {
      const registered = await runSotto(
        [
          '--profile',
          world.profile('alice'),
          '--server',
          world.relay.url,
          'register',
          ALICE,
          '--keychain',
        ],
        {
          env: { ...world.env, DBUS_SESSION_BUS_ADDRESS: secrets.env.DBUS_SESSION_BUS_ADDRESS! },
          answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(ALICE) }],
        },
      );
      expect(registered.code, registered.stderr).toBe(0);
      expect(registered.stdout).toContain(`Registered ${ALICE}`);
      expect(registered.stdout).toContain('The OS keychain now unlocks this profile');
      expect(keychainEntries(secrets.env)).toBe(1);

      // No SOTTO_PASSPHRASE and nothing on stdin: a passphrase prompt would fail the command.
      const status = await world.sotto('alice', ['status'], noPassphrase);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stderr).not.toMatch(/Passphrase/);
      expect(status.stdout).toMatch(/store .* and the OS keychain/);
      const keychainStatus = await world.sotto('alice', ['keychain', 'status'], noPassphrase);
      expect(keychainStatus.stdout).toContain('OS keychain: on — it unlocked this profile');

      const disabled = await world.sotto('alice', ['keychain', 'disable'], noPassphrase);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(disabled.stdout).toContain('sotto asks for the passphrase again');
      expect(keychainEntries(secrets.env)).toBe(0);
      const prompted = await world.sotto('alice', ['status'], noPassphrase);
      expectPrompted(prompted);
      // The passphrase (the recovery path) still opens it.
      const withPassphrase = await world.sotto('alice', ['keychain', 'status'], {
        DBUS_SESSION_BUS_ADDRESS: secrets.env.DBUS_SESSION_BUS_ADDRESS!,
      });
      expect(withPassphrase.code, withPassphrase.stderr).toBe(0);
      expect(withPassphrase.stdout).toContain('OS keychain: off');
    }, 120_000);

    it('keychain enable asks for the passphrase once; without the keychain the passphrase still works', async () => {
      const enabled = await world.sotto('alice', ['keychain', 'enable'], {
        SOTTO_PASSPHRASE: '',
        DBUS_SESSION_BUS_ADDRESS: secrets.env.DBUS_SESSION_BUS_ADDRESS!,
      });
      // Nothing on stdin: enabling needs the passphrase and says so.
      expectPrompted(enabled);
      const typed = await runSotto(['--profile', world.profile('alice'), 'keychain', 'enable'], {
        env: { ...world.env, ...noPassphrase },
        answers: [{ waitFor: /Passphrase: $/, text: () => PASSPHRASE }],
      });
      expect(typed.code, typed.stderr).toBe(0);
      expect(typed.stdout).toContain('The OS keychain now unlocks this profile');
      const again = await world.sotto('alice', ['keychain', 'enable'], noPassphrase);
      expect(again.stdout).toContain('already unlocks this profile');

      const contacts = await world.sotto('alice', ['contacts'], noPassphrase);
      expect(contacts.code, contacts.stderr).toBe(0);
      expect(contacts.stderr).not.toMatch(/Passphrase/);

      // The keychain unreachable (another session, no bus): one line says why, the passphrase opens it.
      const elsewhere = await world.sotto('alice', ['status'], {
        DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(world.dir, 'no-such-bus')}`,
      });
      expect(elsewhere.code, elsewhere.stderr).toBe(0);
      expect(elsewhere.stderr).toMatch(
        /^sotto: the OS keychain is not available .*; using the passphrase instead$/m,
      );
      expect(elsewhere.stdout).toMatch(/store .* and the OS keychain/);
    }, 120_000);

    it('register --keychain without a usable keychain fails before any prompt and leaves no profile', async () => {
      const result = await runSotto(
        [
          '--profile',
          world.profile('bob'),
          '--server',
          world.relay.url,
          'register',
          '+14155550702',
          '--keychain',
        ],
        {
          env: {
            ...world.env,
            SOTTO_PASSPHRASE: '',
            DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(world.dir, 'no-such-bus')}`,
          },
        },
      );
      expectOneLineFailure(
        result,
        4,
        /^sotto: the OS keychain is not available \(.+\): is a Secret Service/,
      );
      expect(result.stderr).not.toMatch(/passphrase/i);
      expect(existsSync(join(world.profile('bob'), 'store.sqlite'))).toBe(false);
    }, 60_000);
  },
);
