// Data export, erasure, directory lookup and the tamper-evident audit log.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResponseBody } from '@sotto/api';
import { verifyAuditLog } from '../src/index.js';
import {
  authed,
  b64,
  connect,
  freshIp,
  isQueueEmpty,
  linkDevice,
  register,
  startHarness,
  uploadKeys,
  type Harness,
  type ErrorBody,
} from './support/harness.js';

describe('accounts', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function prepare() {
    const alice = await register(h);
    const bob = await register(h);
    const bob2 = await linkDevice(h, bob, 999);
    await uploadKeys(h, bob, 3, 2);
    const a = await connect(h, alice);
    await a.next(isQueueEmpty);
    const sent = await a.send(bob.accountId, [
      { deviceId: 1, registrationId: bob.registrationId, content: randomBytes(40) },
      { deviceId: 2, registrationId: 999, content: randomBytes(41) },
    ]);
    expect(sent.type).toBe('send-result');
    const b = await connect(h, bob);
    await b.next(isQueueEmpty);
    const back = await b.send(alice.accountId, [
      { deviceId: 1, registrationId: alice.registrationId, content: randomBytes(5) },
    ]);
    expect(back.type).toBe('send-result');
    const up = await h.app.inject({
      method: 'POST',
      url: '/v1/attachments',
      headers: { authorization: bob.authorization, 'content-type': 'application/octet-stream' },
      payload: randomBytes(100),
    });
    await h.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/registration-lock',
      headers: authed(bob),
      payload: { token: b64(randomBytes(32)) },
    });
    a.close();
    b.close();
    return { alice, bob, bob2, attachmentId: up.json<{ attachmentId: string }>().attachmentId };
  }

  it('exports everything the server holds about the account', async () => {
    const { bob, attachmentId } = await prepare();
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/accounts/me/export',
      headers: authed(bob),
    });
    expect(res.statusCode).toBe(200);
    const x = res.json<ResponseBody<'exportAccount'>>();
    expect(x.account).toMatchObject({
      accountId: bob.accountId,
      number: bob.number,
      identityKey: b64(bob.identityKey),
      registrationLock: { enabled: true, setAt: h.clock.now() },
    });
    expect(x.devices.map((d) => d.deviceId)).toEqual([1, 2]);
    expect(x.devices[0]!.oneTimePreKeys).toHaveLength(3);
    expect(x.devices[0]!.oneTimeKyberPreKeys).toHaveLength(2);
    expect(x.devices[0]!.signedPreKey?.keyId).toBe(1);
    expect(x.pendingEnvelopes.map((e) => [e.deviceId, e.size])).toEqual([
      [1, 40],
      [2, 41],
    ]);
    expect(x.sentMessageIds).toHaveLength(1);
    expect(x.attachments).toEqual([{ attachmentId, size: 100, createdAt: h.clock.now() }]);
    expect(x.auditEvents.map((e) => e.event)).toEqual([
      'account-registered',
      'device-added',
      'keys-replaced',
      'registration-lock-set',
    ]);
    // No secret material: no credential hashes, no lock hash.
    expect(JSON.stringify(x)).not.toMatch(/credential|Hash/);
  });

  it('erases everything on deletion, closes the sockets, keeps an audit row without the number', async () => {
    const { alice, bob, bob2 } = await prepare();
    const socket = await connect(h, bob2);
    await socket.next(isQueueEmpty);
    const linkedRefused = await h.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: authed(bob2),
    });
    expect(linkedRefused.json<ErrorBody>().error.code).toBe('FORBIDDEN');
    const res = await h.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: authed(bob),
    });
    expect(res.statusCode).toBe(204);
    expect(await socket.closed()).toBe(4401);
    const after = await h.app.inject({
      method: 'GET',
      url: '/v1/accounts/me',
      headers: authed(bob),
      remoteAddress: freshIp(),
    });
    expect(after.statusCode).toBe(401);
    // Nothing left in any table keyed by bob, and the number appears nowhere.
    const tables = [
      'accounts',
      'devices',
      'device_keys',
      'one_time_prekeys',
      'attachments',
      'provisioning_codes',
    ];
    for (const t of tables) {
      const rows = h.database.prepare(`select * from ${t} where account_id = ?`).all(bob.accountId);
      expect(rows, t).toHaveLength(0);
    }
    expect(
      h.database.prepare('select * from envelopes where account_id = ?').all(bob.accountId),
    ).toHaveLength(0);
    expect(
      h.database.prepare('select * from sent_messages where source_account = ?').all(bob.accountId),
    ).toHaveLength(0);
    expect(
      h.database
        .prepare('select * from rate_limits where bucket like ?')
        .all(`acct:${bob.accountId}:%`),
    ).toHaveLength(0);
    expect(h.attachments.size).toBe(0);
    const allRows = JSON.stringify(
      ['accounts', 'devices', 'audit_log', 'rate_limits', 'verification_codes'].flatMap((t) =>
        h.database.prepare(`select * from ${t}`).all(),
      ),
    );
    expect(allRows).not.toContain(bob.number);
    expect(allRows).not.toContain(bob.number.slice(1));
    const audit = await h.storage.readAuditLog(0, 100);
    expect(audit.at(-1)).toMatchObject({ event: 'account-deleted', accountId: bob.accountId });
    // Bob's message to Alice belongs to Alice's mailbox and stays.
    expect(await h.storage.mailboxSize(alice.accountId, 1)).toBe(1);
    // The number can register again, as a new account.
    const again = await register(h, { number: bob.number });
    expect(again.accountId).not.toBe(bob.accountId);
  });

  it('looks up account ids by number, rate limited per account', async () => {
    const alice = await register(h);
    const bob = await register(h);
    const lookup = (number: string) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/directory/lookup',
        headers: authed(alice),
        payload: { number },
      });
    expect((await lookup(bob.number)).json()).toEqual({ accountId: bob.accountId });
    const missing = await lookup('+14155559999');
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ErrorBody>().error.code).toBe('ACCOUNT_NOT_FOUND');
    let last = 200;
    for (let i = 0; i < 200 && last !== 429; i++) last = (await lookup(bob.number)).statusCode;
    expect(last).toBe(429);
  });

  it('keeps a hash-chained audit log that detects tampering', async () => {
    await prepare();
    const ok = await verifyAuditLog(h.storage);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.rows).toBe(5);
    const rows = h.database.prepare('select seq, event from audit_log order by seq').all() as {
      seq: number;
      event: string;
    }[];
    const victim = rows[2]!.seq;

    // Changing a row's content breaks its hash; restoring it restores the chain.
    h.database.prepare("update audit_log set event = 'device-removed' where seq = ?").run(victim);
    expect(await verifyAuditLog(h.storage)).toEqual({
      ok: false,
      seq: victim,
      reason: `row ${victim} does not match its hash`,
    });
    h.database.prepare('update audit_log set event = ? where seq = ?').run(rows[2]!.event, victim);
    expect((await verifyAuditLog(h.storage)).ok).toBe(true);

    // Deleting a row in the middle shows as a gap.
    h.database.prepare('delete from audit_log where seq = ?').run(victim);
    expect(await verifyAuditLog(h.storage)).toMatchObject({ ok: false, seq: victim });
  });

  it('detects a rewritten row even when its hash is recomputed without the chain', async () => {
    await prepare();
    const rows = h.database.prepare('select seq from audit_log order by seq').all() as {
      seq: number;
    }[];
    const victim = rows[1]!.seq;
    // Re-hash the row as if it started a chain: the next row no longer links to it.
    h.database
      .prepare(
        'update audit_log set details = \'{"removedDevices":0}\', hash = zeroblob(32) where seq = ?',
      )
      .run(victim);
    const result = await verifyAuditLog(h.storage);
    expect(result).toMatchObject({ ok: false, seq: victim });
  });
});
