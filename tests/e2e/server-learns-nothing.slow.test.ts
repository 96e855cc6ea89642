// "The relay never learns message contents" (docs/server.md, threat model), checked on the bytes an
// operator or an attacker with the machine would have. Two accounts register real numbers with a
// real relay process, publish prekeys made by @sotto/protocol through the keys API (opaque bytes to
// the relay), set up a Signal session (PQXDH + Double Ratchet) from the fetched bundle and talk over
// the relay's WebSocket with distinctive plaintexts. Then, with everything acknowledged:
//   - no plaintext occurs — raw, hex or base64 — in the database, its -wal or -shm file, or any
//     line the process wrote (logs at trace level, stderr);
//   - the phone numbers (+E164, digits only, base64 of both) occur in the database only on the
//     pages of the accounts table and its number index, where docs/server.md says they are kept,
//     and never in a log line (the development SMS lines, written outside the logger, excepted);
//   - after the acknowledgements and a checkpoint, no ciphertext the relay carried is left in the
//     database file (nor in any log).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_TYPES, fromBase64, toBase64, type EnvelopeFrame } from '@sotto/api';
import {
  CIPHERTEXT_MESSAGE_TYPE,
  IdentityKey,
  KemPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PublicKey,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type ProtocolAddress,
} from '@sotto/protocol';
import { InMemoryProtocolStores } from '@sotto/protocol/testing';
import {
  encodedForms,
  phoneNumberForms,
  scan,
  scanDatabase,
  scanWal,
  type Hit,
  type Needle,
} from './support/byte-scan.js';
import {
  RelaySocket,
  callJson,
  registerAccount,
  until,
  type RegisteredDevice,
} from './support/relay-client.js';
import { DEV_SMS_PREFIX, spawnRelay, type RelayProcess } from '@sotto/server-app/testing';

const rng = (n: number): Uint8Array => randomBytes(n);
const NUMBERS = { alice: '+14155557311', bob: '+14155558422' } as const;
/** Messages waiting while the recipient is offline: enough for the mailbox to span pages. */
const OFFLINE_MESSAGES = 40;

interface Party {
  readonly name: 'alice' | 'bob';
  readonly stores: InMemoryProtocolStores;
  readonly device: RegisteredDevice;
  readonly address: ProtocolAddress;
  socket: RelaySocket;
  readonly inbox: EnvelopeFrame[];
}

describe('the relay learns nothing', () => {
  let dataDir: string;
  let relay: RelayProcess | null = null;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sotto-leak-'));
  });
  afterAll(async () => {
    await relay?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps no plaintext anywhere, numbers only in the accounts table, no ciphertext after ack', async () => {
    relay = await spawnRelay({
      SOTTO_DATA_DIR: dataDir,
      SOTTO_SMS: 'console',
      // Everything the logger can say: the promise holds at every level.
      SOTTO_LOG_LEVEL: 'trace',
    });
    const r = relay;
    const dbPath = join(dataDir, 'sotto.sqlite');

    // ---- two people register and publish keys made by the protocol package ------------------
    async function join_(name: 'alice' | 'bob'): Promise<Party> {
      const stores = InMemoryProtocolStores.generate(rng);
      const device = await registerAccount(r.url, NUMBERS[name], r.codeFor, {
        registrationId: stores.registrationId,
        identityKey: stores.identity.identityKey.serialize(),
      });
      const signed = SignedPreKeyRecord.generate(7, stores.identity, Date.now(), rng);
      const lastResort = KyberPreKeyRecord.generate(8, stores.identity, Date.now(), rng, {
        lastResort: true,
      });
      const kyber = KyberPreKeyRecord.generate(9, stores.identity, Date.now(), rng);
      const oneTime = PreKeyRecord.generate(10, rng);
      await stores.signedPreKeyStore.saveSignedPreKey(signed.id, signed);
      await stores.kyberPreKeyStore.saveKyberPreKey(lastResort.id, lastResort);
      await stores.kyberPreKeyStore.saveKyberPreKey(kyber.id, kyber);
      await stores.preKeyStore.savePreKey(oneTime.id, oneTime);
      await callJson(
        r.url,
        'PUT',
        '/v1/keys',
        device.authorization,
        {
          signedPreKey: {
            keyId: signed.id,
            publicKey: toBase64(signed.publicKey.serialize()),
            signature: toBase64(signed.signature),
          },
          lastResortKyberPreKey: {
            keyId: lastResort.id,
            publicKey: toBase64(lastResort.publicKey.serialize()),
            signature: toBase64(lastResort.signature),
          },
          preKeys: [{ keyId: oneTime.id, publicKey: toBase64(oneTime.publicKey.serialize()) }],
          kyberPreKeys: [
            {
              keyId: kyber.id,
              publicKey: toBase64(kyber.publicKey.serialize()),
              signature: toBase64(kyber.signature),
            },
          ],
        },
        204,
      );
      const inbox: EnvelopeFrame[] = [];
      const socket = await RelaySocket.open(r.url, device.authorization, (e) => inbox.push(e));
      await socket.waitQueueEmpty();
      return {
        name,
        stores,
        device,
        address: { name: device.accountId, deviceId: device.deviceId },
        socket,
        inbox,
      };
    }
    const alice = await join_('alice');
    const bob = await join_('bob');

    // ---- Alice starts a session from the bundle the relay hands out -------------------------
    interface BundleJson {
      identityKey: string;
      devices: {
        deviceId: number;
        registrationId: number;
        signedPreKey: { keyId: number; publicKey: string; signature: string };
        preKey?: { keyId: number; publicKey: string };
        kyberPreKey: { keyId: number; publicKey: string; signature: string };
      }[];
    }
    const fetched = await callJson<BundleJson>(
      r.url,
      'GET',
      `/v1/keys/${bob.device.accountId}/1`,
      alice.device.authorization,
    );
    const d = fetched.devices[0]!;
    expect(d.preKey?.keyId).toBe(10);
    expect(d.kyberPreKey.keyId).toBe(9);
    const bundle = new PreKeyBundle({
      registrationId: d.registrationId,
      deviceId: d.deviceId,
      preKeyId: d.preKey?.keyId ?? null,
      preKey: d.preKey === undefined ? null : PublicKey.deserialize(fromBase64(d.preKey.publicKey)),
      signedPreKeyId: d.signedPreKey.keyId,
      signedPreKey: PublicKey.deserialize(fromBase64(d.signedPreKey.publicKey)),
      signedPreKeySignature: fromBase64(d.signedPreKey.signature),
      identityKey: IdentityKey.deserialize(fromBase64(fetched.identityKey)),
      kyberPreKeyId: d.kyberPreKey.keyId,
      kyberPreKey: KemPublicKey.deserialize(fromBase64(d.kyberPreKey.publicKey)),
      kyberPreKeySignature: fromBase64(d.kyberPreKey.signature),
    });
    await processPreKeyBundle(bundle, bob.address, alice.address, alice.stores, {
      rng,
      now: Date.now(),
    });

    const files = () => ({
      db: readFileSync(dbPath),
      wal: existsSync(`${dbPath}-wal`) ? readFileSync(`${dbPath}-wal`) : null,
      shm: existsSync(`${dbPath}-shm`) ? readFileSync(`${dbPath}-shm`) : null,
    });

    // ---- the conversation -------------------------------------------------------------------
    const plaintexts: string[] = [];
    const ciphertexts: Uint8Array[] = [];
    const envelopeTypes = new Set<number>();
    /** Encrypts `text` and sends it; resolves once the relay acknowledged the send. */
    async function post(from: Party, to: Party, text: string): Promise<Uint8Array> {
      plaintexts.push(text);
      const message = await signalEncrypt(
        new TextEncoder().encode(text),
        to.address,
        from.address,
        from.stores,
        { rng, now: Date.now() },
      );
      ciphertexts.push(message.body);
      const type =
        message.type === 'prekey' ? ENVELOPE_TYPES.prekeyMessage : ENVELOPE_TYPES.ciphertext;
      envelopeTypes.add(type);
      const answer = await from.socket.send(to.device.accountId, [
        {
          deviceId: to.device.deviceId,
          registrationId: to.device.registrationId,
          type,
          content: message.body,
        },
      ]);
      expect(answer.type).toBe('send-result');
      return message.body;
    }
    /** Decrypts a delivered envelope and checks it is what was sent. */
    async function open(to: Party, from: Party, e: EnvelopeFrame, body: Uint8Array, text: string) {
      expect(e.sourceAccountId).toBe(from.device.accountId);
      expect(Buffer.from(e.content).equals(body)).toBe(true);
      const bytes =
        e.envelopeType === ENVELOPE_TYPES.prekeyMessage
          ? await signalDecryptPreKey(e.content, from.address, to.address, to.stores, { rng })
          : await signalDecrypt(e.content, from.address, to.address, to.stores, { rng });
      expect(new TextDecoder().decode(bytes)).toBe(text);
    }
    async function say(from: Party, to: Party, text: string): Promise<void> {
      const body = await post(from, to, text);
      const envelope = await until(() => to.inbox.shift(), `${to.name} to receive`);
      await open(to, from, envelope, body, text);
      // Stored, then acknowledged: the relay may now forget it.
      to.socket.ack([envelope.guid]);
    }
    const secret = () => randomBytes(6).toString('hex');
    for (let i = 0; i < 3; i++) {
      await say(
        alice,
        bob,
        `sotto plaintext A${i}-${secret()}: the spare key is under the blue pot`,
      );
    }
    for (let i = 0; i < 3; i++) {
      await say(bob, alice, `sotto plaintext B${i}-${secret()}: meet at the north gate, 7:40`);
    }
    for (let i = 0; i < 3; i++) {
      await say(alice, bob, `sotto plaintext C${i}-${secret()} — ünïcödé ☂ survives too`);
    }
    // Bob is offline for a while: Alice's messages wait in his mailbox (several pages of it), and
    // he acknowledges the whole drain at once, as a client catching up does.
    await bob.socket.close();
    const offline: { body: Uint8Array; text: string }[] = [];
    for (let i = 0; i < OFFLINE_MESSAGES; i++) {
      const text = `sotto plaintext D${i}-${secret()} ${'while you were away; '.repeat(30)}`;
      offline.push({ body: await post(alice, bob, text), text });
    }
    bob.socket = await RelaySocket.open(r.url, bob.device.authorization, (e) => bob.inbox.push(e));
    await bob.socket.waitQueueEmpty();
    expect(bob.inbox).toHaveLength(OFFLINE_MESSAGES);
    // What the files hold while the offline messages wait (for the scanner's sanity check).
    const whileWaiting = files();
    const offlineNeedles = offline.map((m, i) => ({ label: `offline #${i}`, bytes: m.body }));
    for (const [i, e] of bob.inbox.entries())
      await open(bob, alice, e, offline[i]!.body, offline[i]!.text);
    bob.socket.ack(bob.inbox.splice(0).map((e) => e.guid));
    // PreKey messages (type 3) until Bob answered, Whisper messages (type 1) after.
    expect([...envelopeTypes].sort()).toEqual([
      ENVELOPE_TYPES.ciphertext,
      ENVELOPE_TYPES.prekeyMessage,
    ]);
    expect(CIPHERTEXT_MESSAGE_TYPE.prekey).toBe(ENVELOPE_TYPES.prekeyMessage);

    // ---- every acknowledgement committed: the mailboxes are empty ----------------------------
    await Promise.all([alice.socket.ping(), bob.socket.ping()]);
    await until(() => {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        const { n } = db.prepare('select count(*) as n from envelopes').get() as { n: number };
        return n === 0 ? true : undefined;
      } finally {
        db.close();
      }
    }, 'the acknowledged envelopes to be deleted');

    // What a copy of the running server's disk holds (the WAL still has every recent frame) ...
    const running = files();
    expect(running.wal?.length ?? 0).toBeGreaterThan(0);
    await alice.socket.close();
    await bob.socket.close();
    expect(await r.stop('SIGTERM')).toBe(0);
    // ... and what the stopped server leaves.
    const stopped = files();

    // Page ownership, and the checkpoint after which deleted envelopes must be gone.
    const db = new Database(dbPath);
    let pageSize: number;
    let owners: Map<number, string>;
    /** Where docs/server.md ("What the relay stores") keeps numbers: accounts and its index on them. */
    const numberHomes = new Set(['accounts']);
    try {
      pageSize = db.pragma('page_size', { simple: true }) as number;
      for (const { name } of db.prepare("select name from pragma_index_list('accounts')").all() as {
        name: string;
      }[]) {
        const columns = db.prepare('select name from pragma_index_info(?)').all(name) as {
          name: string;
        }[];
        if (columns.length === 1 && columns[0]!.name === 'number') numberHomes.add(name);
      }
      expect(numberHomes.size).toBe(2);
      db.pragma('wal_checkpoint(TRUNCATE)');
      owners = new Map(
        (
          db.prepare('select name, pageno from dbstat').all() as { name: string; pageno: number }[]
        ).map((row) => [row.pageno, row.name]),
      );
    } finally {
      db.close();
    }
    const checkpointed = files();

    const logs = Buffer.from(
      [...r.lines.filter((l) => !l.startsWith(DEV_SMS_PREFIX)), r.stderr()].join('\n'),
    );
    // Only the development SMS lines are left out of the log scan, and they are exactly those.
    for (const l of r.lines) {
      if (l.startsWith(DEV_SMS_PREFIX))
        expect(l).toMatch(/^\[sotto dev-only sms\] to=\+[0-9]+ code=[0-9]{6}$/);
      else expect(l.startsWith('{')).toBe(true);
    }
    expect(r.lines.length).toBeGreaterThan(10);

    const snapshots = [
      ['running', running],
      ['stopped', stopped],
      ['checkpointed', checkpointed],
    ] as const;
    const everywhere = (needles: readonly Needle[]): Hit[] => {
      const hits: Hit[] = [...scan(logs, needles, 'logs')];
      for (const [when, f] of snapshots) {
        hits.push(...scanDatabase(f.db, pageSize, needles, `${when} sotto.sqlite`));
        if (f.wal !== null) hits.push(...scanWal(f.wal, pageSize, needles, `${when} -wal`));
        if (f.shm !== null) hits.push(...scan(f.shm, needles, `${when} -shm`));
      }
      return hits;
    };

    // 1. Plaintexts: nowhere, in any form.
    expect(plaintexts).toHaveLength(9 + OFFLINE_MESSAGES);
    const plainNeedles = plaintexts.flatMap((p, i) =>
      encodedForms(new TextEncoder().encode(p), `plaintext #${i}`),
    );
    expect(everywhere(plainNeedles)).toEqual([]);

    // 2. Phone numbers: never in logs; in the files only on pages of the accounts table or its
    //    number index — and there for sure (the scan would otherwise prove nothing).
    const numberNeedles = [...phoneNumberForms(NUMBERS.alice), ...phoneNumberForms(NUMBERS.bob)];
    const numberHits = everywhere(numberNeedles);
    const misplaced = numberHits.filter(
      (h) => h.page === undefined || !numberHomes.has(owners.get(h.page) ?? 'free page'),
    );
    expect(
      misplaced.map((h) => ({ ...h, owner: h.page === undefined ? null : owners.get(h.page) })),
    ).toEqual([]);
    const homed = numberHits.filter((h) => h.where === 'checkpointed sotto.sqlite');
    expect(new Set(homed.map((h) => h.needle))).toEqual(
      new Set([
        `${NUMBERS.alice} +E164`,
        `${NUMBERS.alice} digits`,
        `${NUMBERS.bob} +E164`,
        `${NUMBERS.bob} digits`,
      ]),
    );

    // 3. Ciphertexts: the relay kept them only until acknowledged. After the checkpoint none is
    //    left in the database file, and none was ever logged.
    expect(ciphertexts).toHaveLength(9 + OFFLINE_MESSAGES);
    const cipherNeedles = ciphertexts.flatMap((c, i) => encodedForms(c, `ciphertext #${i}`));
    expect(scan(logs, cipherNeedles, 'logs')).toEqual([]);
    expect(checkpointed.wal === null || checkpointed.wal.length === 0).toBe(true);
    const cipherLeft = scanDatabase(
      checkpointed.db,
      pageSize,
      ciphertexts.map((c, i) => ({ label: `ciphertext #${i}`, bytes: c })),
      'checkpointed sotto.sqlite',
    );
    expect(cipherLeft.map((h) => ({ ...h, owner: owners.get(h.page!) ?? 'free page' }))).toEqual(
      [],
    );
    // Sanity: the scans find ciphertext that is there — every offline message was in the files
    // while it waited, each in a database page or a WAL frame.
    const waitingHits = [
      ...scanDatabase(whileWaiting.db, pageSize, offlineNeedles, 'db'),
      ...(whileWaiting.wal === null
        ? []
        : scanWal(whileWaiting.wal, pageSize, offlineNeedles, 'wal')),
    ];
    expect(new Set(waitingHits.map((h) => h.needle)).size).toBe(OFFLINE_MESSAGES);
  }, 120_000);
});
