import { sql } from 'kysely';
import { openSqliteStorage } from '@sotto/storage-sqlite';
const s = await openSqliteStorage({ filename: '/tmp/tt-' + Date.now() + '.sqlite', synchronous: 'NORMAL' });
console.log((await sql`PRAGMA synchronous`.execute(s.db)).rows);
await s.close();
