/**
 * Linking (account/link-protocol.ts): link codes, the HELLO only a link-code holder can make, and
 * the PROVISION only the device that sent the HELLO can open.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '@sotto/crypto';
import { IdentityKeyPair } from '@sotto/protocol';
import { ClientError } from '../src/index.js';
import {
  checkHello,
  formatLinkCode,
  makeHello,
  makeProvision,
  newEphemeralKey,
  newLinkSecret,
  openProvision,
  parseLinkCode,
} from '../src/account/link-protocol.js';

const ACCOUNT = '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3d';

describe('link codes', () => {
  it('round-trips the provisioning code and the secret', () => {
    const code = randomBytes(16);
    const secret = newLinkSecret(randomBytes);
    const text = formatLinkCode(code, secret);
    expect(text.startsWith('sotto-link:1:')).toBe(true);
    const parsed = parseLinkCode(`  ${text}\n`);
    expect(parsed.secret).toEqual(secret);
    expect(Buffer.from(parsed.provisioningCode, 'base64url').equals(Buffer.from(code))).toBe(true);
  });

  it('rejects malformed codes with LINK_FAILED', () => {
    const good = formatLinkCode(randomBytes(16), randomBytes(32));
    for (const bad of [
      '',
      good.replace('sotto-link:1:', 'sotto-link:2:'),
      good.replace('.', ''),
      `${good}.extra`,
      formatLinkCode(randomBytes(15), randomBytes(32)),
      formatLinkCode(randomBytes(16), randomBytes(31)),
      good.slice(0, -1) + '*',
    ]) {
      let caught: unknown;
      try {
        parseLinkCode(bad);
      } catch (err) {
        caught = err;
      }
      expect(ClientError.is(caught, 'LINK_FAILED')).toBe(true);
    }
  });
});

describe('hello and provision', () => {
  const secret = newLinkSecret(randomBytes);
  const eph = newEphemeralKey(randomBytes);
  const hello = makeHello(secret, ACCOUNT, 2, eph);

  it('accepts a HELLO only for the right secret, account and device', () => {
    expect(checkHello(hello, secret, ACCOUNT, 2)).not.toBeNull();
    expect(checkHello(hello, randomBytes(32), ACCOUNT, 2)).toBeNull();
    expect(checkHello(hello, secret, ACCOUNT, 3)).toBeNull();
    expect(checkHello(hello, secret, '3f1c5a52-9a3b-4e0e-8d7c-0d6f7a1b2c3e', 2)).toBeNull();
    for (let i = 0; i < hello.length; i += 7) {
      const flipped = hello.slice();
      flipped[i]! ^= 1;
      expect(checkHello(flipped, secret, ACCOUNT, 2)).toBeNull();
    }
  });

  it('carries the identity to the device that sent the HELLO, and to nobody else', () => {
    const identity = IdentityKeyPair.generate(randomBytes);
    const newEph = checkHello(hello, secret, ACCOUNT, 2)!;
    const message = makeProvision(
      { identity, accountId: ACCOUNT, number: '+14155550123' },
      secret,
      newEph,
      2,
      randomBytes,
    );
    const opened = openProvision(message, secret, eph, 2);
    expect(opened).not.toBeNull();
    expect(opened!.accountId).toBe(ACCOUNT);
    expect(opened!.number).toBe('+14155550123');
    expect(
      Buffer.from(opened!.identity.serialize()).equals(Buffer.from(identity.serialize())),
    ).toBe(true);
    // Someone with the link code but another ephemeral key, or the wrong device id, learns nothing.
    expect(openProvision(message, secret, newEphemeralKey(randomBytes), 2)).toBeNull();
    expect(openProvision(message, secret, eph, 3)).toBeNull();
    expect(openProvision(message, randomBytes(32), eph, 2)).toBeNull();
    // Any change to the message is refused.
    for (let i = 0; i < message.length; i += 97) {
      const flipped = message.slice();
      flipped[i]! ^= 0x40;
      expect(openProvision(flipped, secret, eph, 2)).toBeNull();
    }
    // The identity key pair is not in the message in the clear.
    const priv = Buffer.from(identity.privateKey.serialize());
    expect(Buffer.from(message).indexOf(priv)).toBe(-1);
  });
});
