import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
const database = new Database(':memory:');
database.exec('create table t (a integer, b text)');
const cache = new Map<string, Database.Statement>();
const db = new Kysely<any>({ dialect: new SqliteDialect({ database: { close: () => database.close(), prepare: (sql: string) => { let s = cache.get(sql); if (!s) { s = database.prepare(sql); cache.set(sql, s); } return s; } } }) });
const q = CompiledQuery.raw('insert into t (a, b) values (?, ?)', [1, 'x']);
const N = 200_000;
async function viaTrx() { await db.transaction().execute(async (trx) => { for (let i = 0; i < N; i++) await trx.executeQuery({ ...q, parameters: [i, 'x'] }); }); }
async function viaConn() { await db.getExecutor().provideConnection(async (c) => { await c.executeQuery(CompiledQuery.raw('begin')); for (let i = 0; i < N; i++) await c.executeQuery({ ...q, parameters: [i, 'x'] }); await c.executeQuery(CompiledQuery.raw('commit')); }); }
function raw() { const st = database.prepare('insert into t (a, b) values (?, ?)'); database.transaction(() => { for (let i = 0; i < N; i++) st.run([i, 'x']); })(); }
for (let r = 0; r < 3; r++) {
  let t = performance.now(); await viaTrx(); const a = performance.now() - t;
  t = performance.now(); await viaConn(); const b = performance.now() - t;
  t = performance.now(); raw(); const c = performance.now() - t;
  console.log(`per statement: kysely trx ${(a * 1000 / N).toFixed(2)} us, raw connection ${(b * 1000 / N).toFixed(2)} us, better-sqlite3 ${(c * 1000 / N).toFixed(2)} us`);
}
