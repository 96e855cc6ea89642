/**
 * Two people chatting through the real `sotto` binary and a real relay process: registration with
 * the SMS code, send, aliases, contacts, the interactive `chat` in a real terminal (tmux) with
 * receipts as they arrive, safety numbers (digits, QR, payload verification), an identity change
 * seen live in `chat` and in `send`, and what the profile store holds at rest afterwards.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Tmux } from './support/cli-process.js';
import { expectOneLineFailure, startWorld, type World } from './support/profiles.js';

const ALICE = '+14155550201';
const BOB = '+14155550202';
const CAROL = '+14155550203';
const DAVE = '+14155550204';

let world: World;
const tmux = new Tmux();
/** Each test closes the terminals it opened, also when it fails (a chat holds its profile). */
const opened = new Set<string>();
function startChat(name: string, profile: string, contact: string): void {
  opened.add(name);
  tmux.start(name, ['--profile', world.profile(profile), 'chat', contact], world.env);
}
afterEach(async () => {
  for (const name of opened) await tmux.close(name);
  opened.clear();
});

beforeAll(async () => {
  world = await startWorld();
}, 60_000);
afterAll(async () => {
  tmux.kill();
  await world.stop();
});

describe('two people', () => {
  it('register, send, alias, chat with receipts as they arrive, and leave', async () => {
    await world.register('alice', ALICE);
    await world.register('bob', BOB);

    const sent = await world.sotto('alice', ['send', BOB, 'the eagle lands at midnight']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe(`Sent to ${BOB} ✓\n`);

    expect((await world.sotto('alice', ['alias', 'set', 'bobby-the-builder', BOB])).code).toBe(0);
    const listed = await world.sotto('alice', ['contacts']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ALIAS +NUMBER +SAFETY NUMBER\n/);
    expect(listed.stdout).toMatch(new RegExp(`bobby-the-builder +\\${BOB} +not verified`));

    // Both in a real terminal.
    tmux.start(
      'alice',
      ['--profile', world.profile('alice'), 'chat', 'bobby-the-builder'],
      world.env,
    );
    tmux.start('bob', ['--profile', world.profile('bob'), 'chat', ALICE], world.env);
    await tmux.waitFor('alice', /Chat with bobby-the-builder \(\+14155550202\)[\s\S]*-- connected/);
    // Bob's chat receives the waiting message live and marks it read: alice sees both receipts.
    await tmux.waitFor('bob', /\+14155550201: the eagle lands at midnight/);
    await tmux.waitFor('alice', /✓✓ delivered · "the eagle lands at midn…"/);
    await tmux.waitFor('alice', /✓✓ read · "the eagle lands at midn…"/);

    tmux.type('bob', 'copy that, over and out');
    await tmux.waitFor('alice', /\] bobby-the-builder: copy that, over and out/);
    await tmux.waitFor('bob', /^> copy that, over and out$/m);
    await tmux.waitFor('bob', /✓✓ read · "copy that, over and out"/); // 23 characters: not cut

    tmux.type('alice', 'a reply typed in the chat');
    await tmux.waitFor('bob', /\+14155550201: a reply typed in the chat/);
    await tmux.waitFor('alice', /✓✓ read · "a reply typed in the ch…"/); // quotes are cut at 24

    tmux.type('alice', '/safety');
    const aliceScreen = await tmux.waitFor(
      'alice',
      /Safety number with bobby-the-builder:\n(\d{5} \d{5} \d{5} \d{5}\n){3}/,
    );
    tmux.type('alice', '/quit');
    await tmux.waitFor('alice', /\[sotto exited 0\]/);
    tmux.keys('bob', 'C-c');
    await tmux.waitFor('bob', /\[sotto exited 0\]/);
    // What alice typed stays on screen once, as she typed it; the receipts quote it.
    expect(aliceScreen.match(/a reply typed in the chat/g)?.length, aliceScreen).toBe(1);
    expect(aliceScreen).toMatch(/^> a reply typed in the chat$/m);

    // History survives: the next chat shows the conversation, oldest first.
    const history = await world.sotto('bob', ['chat', ALICE]);
    expect(history.code, history.stderr).toBe(0);
    const order = [
      'the eagle lands at midnight',
      'copy that, over and out',
      'a reply typed in the chat',
    ];
    const positions = order.map((t) => history.stdout.indexOf(t));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  }, 180_000);

  it('shows the same safety number on both sides, with a QR code, and verifies by payload', async () => {
    const a = await world.sotto('alice', ['safety-number', 'bobby-the-builder']);
    const b = await world.sotto('bob', ['safety-number', ALICE]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const digits = (out: string): string => {
      const m = /\n\n((?:\d{5} \d{5} \d{5} \d{5}\n){3})/.exec(out);
      expect(m, out).not.toBeNull();
      return m![1]!.replace(/\s/g, '');
    };
    expect(digits(a.stdout)).toHaveLength(60);
    expect(digits(a.stdout)).toBe(digits(b.stdout));
    // A terminal QR code: rows of half blocks.
    expect(a.stdout.split('\n').filter((l) => /[▀▄█]{5}/.test(l)).length).toBeGreaterThan(15);
    expect(a.stdout).toContain('(not verified)');

    const noQr = await world.sotto('alice', ['safety-number', 'bobby-the-builder', '--no-qr']);
    expect(noQr.stdout).not.toMatch(/[▀▄█]/);

    // Bob's payload proves alice sees the same keys; a changed payload is refused.
    const payload = (await world.sotto('bob', ['safety-number', ALICE, '--payload'])).stdout.trim();
    const bytes = Buffer.from(payload, 'base64');
    expect(bytes.length).toBeGreaterThan(60);
    const wrong = Buffer.from(bytes);
    wrong[wrong.length - 1]! ^= 1;
    expectOneLineFailure(
      await world.sotto('alice', [
        'verify',
        'bobby-the-builder',
        '--payload',
        wrong.toString('base64'),
      ]),
      3,
      /does NOT match/,
    );
    const verified = await world.sotto('alice', [
      'verify',
      'bobby-the-builder',
      '--payload',
      payload,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(
      'Safety numbers match: bobby-the-builder (+14155550202) is verified ✓',
    );
    expect((await world.sotto('alice', ['contacts'])).stdout).toMatch(
      /bobby-the-builder +\+14155550202 +verified ✓/,
    );
    expect(
      (await world.sotto('alice', ['safety-number', 'bobby-the-builder', '--no-qr'])).stdout,
    ).toContain('(verified ✓)');
  }, 120_000);

  it('keeps no message, number or alias in clear in the profile directory', () => {
    for (const name of ['alice', 'bob']) {
      const dir = world.profile(name);
      const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
      expect(bytes.length).toBeGreaterThan(0);
      for (const secret of [
        'the eagle lands at midnight',
        'copy that, over and out',
        'a reply typed in the chat',
        'bobby-the-builder',
        ALICE,
        BOB,
        world.relay.url,
      ]) {
        expect(bytes.includes(Buffer.from(secret)), `${secret} in ${name}'s profile`).toBe(false);
      }
    }
  });
});

describe('an identity change', () => {
  it('warns live in chat, holds messages until accepted, then sends them', async () => {
    startChat('alice2', 'alice', BOB);
    await tmux.waitFor('alice2', /-- connected/);

    // Bob "gets a new phone": the same number registered on a new profile, with a new identity key.
    await world.register('bob-new-phone', BOB);
    const hello = await world.sotto('bob-new-phone', ['send', ALICE, 'new phone, same bob']);
    expect(hello.code, hello.stderr).toBe(0);

    const warned = await tmux.waitFor(
      'alice2',
      /!! WARNING: the safety number with bobby-the-builder \(\+14155550202\) has changed\./,
    );
    expect(warned).toMatch(/\] bobby-the-builder: new phone, same bob/);
    tmux.type('alice2', 'is it really you');
    await tmux.waitFor('alice2', /-- held: accept the new safety number first/);
    tmux.type('alice2', '/accept');
    await tmux.waitFor('alice2', /-- new safety number accepted/);
    await tmux.waitFor('alice2', /✓ sent · "is it really you"/);
    tmux.type('alice2', '/quit');
    await tmux.waitFor('alice2', /\[sotto exited 0\]/);

    const received = await world.sotto('bob-new-phone', ['chat', ALICE]);
    expect(received.stdout).toMatch(/\+14155550201: is it really you/);
    // The verified mark belonged to the old key.
    expect((await world.sotto('alice', ['contacts'])).stdout).toMatch(
      /bobby-the-builder +\+14155550202 +not verified/,
    );
  }, 180_000);

  it('send reports a held message (exit 1) until verify accepts the change', async () => {
    await world.register('carol', CAROL);
    await world.register('dave', DAVE);
    expect((await world.sotto('carol', ['send', DAVE, 'first contact'])).code).toBe(0);
    await world.register('dave-new-phone', DAVE);
    expect((await world.sotto('dave-new-phone', ['send', CAROL, 'my keys changed'])).code).toBe(0);

    const held = await world.sotto('carol', ['send', DAVE, 'waiting for you to verify']);
    expectOneLineFailure(held, 1, /safety number with \+14155550204 changed: the message is held/);
    expect((await world.sotto('carol', ['contacts'])).stdout).toMatch(/\+14155550204 +CHANGED/);

    const accepted = await world.sotto('carol', ['verify', DAVE, '--yes']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('+14155550204 is verified ✓');
    const got = await world.sotto('dave-new-phone', ['chat', CAROL]);
    expect(got.stdout).toMatch(/\+14155550203: waiting for you to verify/);
  }, 180_000);
});
