// The encrypted SQLite client store runs the ClientStore port's conformance suite
// (CONVENTIONS.md, test layer 5): a private in-memory store, and a file reopened with its passphrase.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runClientStoreConformance } from '@sotto/client/testing';
import { openSqliteClientStore, type SqliteClientStore } from '../src/index.js';

const PASSPHRASE = 'correct horse battery staple';
const dir = mkdtempSync(join(tmpdir(), 'sotto-client-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runClientStoreConformance('sqlite :memory:', () =>
  openSqliteClientStore({ path: ':memory:', passphrase: PASSPHRASE }),
);

runClientStoreConformance(
  'sqlite file (encrypted, WAL, synchronous=FULL)',
  () => openSqliteClientStore({ path: join(dir, `store-${n++}.sqlite`), passphrase: PASSPHRASE }),
  {
    reopen: async (store) => {
      const { path } = store as SqliteClientStore;
      await store.close();
      return openSqliteClientStore({ path, passphrase: PASSPHRASE, create: false });
    },
  },
);
