/**
 * Every failure a user can cause, through the real `sotto` binary and a real relay: each gives a
 * non-zero exit code (docs/cli.md "Exit codes") and one line on stderr, never a stack trace — wrong
 * passphrase (the store file left untouched), wrong verification code (no half-made profile),
 * server down, a number locked by a two-step PIN, unknown contacts, a missing profile, a profile
 * in use, weak passphrases and bad arguments.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteClientStore } from '@sotto/client-store-sqlite';
import { runSotto } from './support/cli-process.js';
import { expectOneLineFailure, PASSPHRASE, startWorld, type World } from './support/profiles.js';

const ALICE = '+14155550301';
const BOB = '+14155550302';
const CAROL = '+14155550303';
const UNREGISTERED = '+14155550399';

let world: World;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function profileDigest(dir: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort())
    hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex');
}

beforeAll(async () => {
  world = await startWorld();
  await world.register('alice', ALICE);
  await world.register('bob', BOB);
}, 90_000);
afterAll(() => world.stop());

describe('the profile', () => {
  it('a wrong passphrase exits 3 and leaves the profile byte for byte as it was', async () => {
    const before = profileDigest(world.profile('alice'));
    const result = await world.sotto('alice', ['status'], {
      SOTTO_PASSPHRASE: 'not the passphrase',
    });
    expectOneLineFailure(result, 3, /^sotto: wrong passphrase for the profile in .*alice$/);
    expect(profileDigest(world.profile('alice'))).toBe(before);
    expect(result.stderr).not.toContain('not the passphrase');
  }, 60_000);

  it('no profile: exit 1 naming the directory (the default is ~/.sotto)', async () => {
    const result = await runSotto(['status'], { env: world.env });
    expectOneLineFailure(
      result,
      1,
      new RegExp(`no profile in ${world.env.HOME}/\\.sotto: run "sotto register`),
    );
    expectOneLineFailure(
      await world.sotto('nobody', ['send', BOB, 'hi']),
      1,
      /no profile in .*nobody/,
    );
  }, 60_000);

  it('a profile open in another process: exit 4, in use', async () => {
    const held = await openSqliteClientStore({
      path: join(world.profile('bob'), 'store.sqlite'),
      passphrase: PASSPHRASE,
      create: false,
    });
    try {
      expectOneLineFailure(
        await world.sotto('bob', ['contacts']),
        4,
        /in use by another sotto process/,
      );
    } finally {
      await held.close();
    }
    expect((await world.sotto('bob', ['contacts'])).code).toBe(0);
  }, 60_000);

  it('a passphrase too short to protect the store is refused before anything is created', async () => {
    const result = await world.sotto('dora', ['--server', world.relay.url, 'register', CAROL], {
      SOTTO_PASSPHRASE: '123456',
    });
    expectOneLineFailure(result, 2, /at least 10 characters/);
    expect(existsSync(join(world.profile('dora'), 'store.sqlite'))).toBe(false);
  }, 60_000);

  it('passphrase change: the old one stops working, the new one works', async () => {
    const next = 'a brand new passphrase for bob';
    const changed = await world.sotto('bob', ['passphrase', 'change'], {
      SOTTO_NEW_PASSPHRASE: next,
    });
    expect(changed.code, changed.stderr).toBe(0);
    expectOneLineFailure(await world.sotto('bob', ['contacts']), 3, /wrong passphrase/);
    expect((await world.sotto('bob', ['contacts'], { SOTTO_PASSPHRASE: next })).code).toBe(0);
    const back = await world.sotto('bob', ['passphrase', 'change'], {
      SOTTO_PASSPHRASE: next,
      SOTTO_NEW_PASSPHRASE: PASSPHRASE,
    });
    expect(back.code, back.stderr).toBe(0);
  }, 90_000);
});

describe('registration', () => {
  it('a wrong code exits 3 and leaves no profile; the right code still works', async () => {
    let real = '';
    const wrong = await runSotto(
      ['--profile', world.profile('carol'), '--server', world.relay.url, 'register', CAROL],
      {
        env: world.env,
        answers: [
          {
            waitFor: /Verification code: $/,
            text: async () => {
              real = await world.relay.codeFor(CAROL);
              return real === '000000' ? '111111' : '000000';
            },
          },
        ],
      },
    );
    expectOneLineFailure(wrong, 3, /^sotto: wrong verification code$/);
    expect(existsSync(join(world.profile('carol'), 'store.sqlite'))).toBe(false);

    const retry = await world.sotto('carol', [
      '--server',
      world.relay.url,
      'register',
      CAROL,
      '--code',
      real,
    ]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`Registered ${CAROL}`);
  }, 90_000);

  it('a number locked by a two-step PIN cannot be registered elsewhere (exit 3)', async () => {
    const set = await world.sotto('alice', ['pin', 'set'], { SOTTO_PIN: '2468' });
    expect(set.code, set.stderr).toBe(0);
    expect((await world.sotto('alice', ['status'])).stdout).toMatch(/registration lock +on/);

    const stolen = await runSotto(
      ['--profile', world.profile('mallory'), '--server', world.relay.url, 'register', ALICE],
      {
        env: world.env,
        answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(ALICE) }],
      },
    );
    expectOneLineFailure(
      stolen,
      3,
      /protected by a two-step PIN \(registration lock\).*lapses in 7 days/,
    );
    expect(existsSync(join(world.profile('mallory'), 'store.sqlite'))).toBe(false);

    // A wrong PIN: the key vault refuses it and says how many guesses are left.
    const guessed = await runSotto(
      ['--profile', world.profile('mallory'), '--server', world.relay.url, 'register', ALICE],
      {
        env: { ...world.env, SOTTO_PIN: '1111' },
        answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(ALICE) }],
      },
    );
    expectOneLineFailure(guessed, 3, /wrong PIN; 9 attempts left/);
    expect(existsSync(join(world.profile('mallory'), 'store.sqlite'))).toBe(false);

    const removed = await world.sotto('alice', ['pin', 'remove']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await world.sotto('alice', ['status'])).stdout).toMatch(/registration lock +off/);
  }, 120_000);

  it('a new device registers a PIN-locked number with the PIN, through the key vault', async () => {
    const PEGGY = '+14155550304';
    await world.register('peggy', PEGGY);
    const set = await world.sotto('peggy', ['pin', 'set'], { SOTTO_PIN: '8642' });
    expect(set.code, set.stderr).toBe(0);
    const recovered = await runSotto(
      ['--profile', world.profile('victor'), '--server', world.relay.url, 'register', PEGGY],
      {
        env: { ...world.env, SOTTO_PIN: '8642' },
        answers: [{ waitFor: /Verification code: $/, text: () => world.relay.codeFor(PEGGY) }],
      },
    );
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stdout).toContain(`Registered ${PEGGY}`);
    expect(recovered.stderr).not.toContain('8642');
    expect((await world.sotto('victor', ['status'])).stdout).toMatch(/registration lock +on/);
  }, 120_000);

  it('a profile registers one account only', async () => {
    const again = await world.sotto('alice', ['register', ALICE, '--code', '123456']);
    expectOneLineFailure(again, 1, /already holds an account/);
  }, 60_000);

  it('bad numbers and codes are usage errors (exit 2)', async () => {
    expectOneLineFailure(await world.sotto('x', ['register', '555-0100']), 2, /E\.164/);
    expectOneLineFailure(
      await world.sotto('x', ['register', ALICE, '--code', '12ab']),
      2,
      /6 digits/,
    );
  }, 60_000);
});

describe('contacts', () => {
  it('an unknown alias or a number without an account exits 1', async () => {
    expectOneLineFailure(
      await world.sotto('alice', ['send', 'nobody-known', 'hi']),
      1,
      /unknown contact "nobody-known"/,
    );
    expectOneLineFailure(
      await world.sotto('alice', ['send', UNREGISTERED, 'hi']),
      1,
      /no Sotto account has the number \+14155550399/,
    );
    expectOneLineFailure(
      await world.sotto('alice', ['safety-number', BOB]),
      1,
      /no safety number with .* yet/,
    );
    expectOneLineFailure(
      await world.sotto('alice', ['alias', 'set', '+1234', BOB]),
      2,
      /an alias is/,
    );
  }, 90_000);
});

describe('arguments', () => {
  it('unknown commands and missing arguments exit 2 with one line', async () => {
    expectOneLineFailure(
      await world.sotto('alice', ['frobnicate']),
      2,
      /unknown command 'frobnicate'/,
    );
    expectOneLineFailure(
      await world.sotto('alice', ['send', BOB]),
      2,
      /missing required argument 'text'/,
    );
    const help = await world.sotto('alice', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
  }, 60_000);
});

describe('the server', () => {
  it('an address nobody listens on: exit 4 for send, register and devices; no profile left', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    expectOneLineFailure(
      await world.sotto('alice', ['--server', down, 'send', BOB, 'hi']),
      4,
      /server unreachable at http:\/\/127\.0\.0\.1:\d+/,
    );
    expectOneLineFailure(
      await world.sotto('alice', ['--server', down, 'devices']),
      4,
      /server unreachable at/,
    );
    expectOneLineFailure(
      await world.sotto('erin', ['--server', down, 'register', '+14155550305']),
      4,
      /server unreachable at/,
    );
    expect(existsSync(join(world.profile('erin'), 'store.sqlite'))).toBe(false);
  }, 90_000);

  it('after the relay stops: status says so (exit 0), send fails with exit 4', async () => {
    const up = await world.sotto('alice', ['status']);
    expect(up.stdout).toMatch(/server +http:\/\/127\.0\.0\.1:\d+ — reachable/);
    world.relay.child.kill('SIGTERM');
    expect(await world.relay.exited).toBe(0);
    const status = await world.sotto('alice', ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/server +http:\/\/127\.0\.0\.1:\d+ — NOT reachable/);
    expectOneLineFailure(
      await world.sotto('alice', ['send', BOB, 'anyone?']),
      4,
      /server unreachable at/,
    );
  }, 90_000);
});
