/**
 * Background WAL checkpoints (https://sqlite.org/wal.html#application_initiated_checkpoints):
 * a worker thread with its own connection to the database file runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every CHECKPOINT_INTERVAL_MS, and the relay's connection turns
 * automatic checkpoints off. A checkpoint copies committed pages from the WAL into the database
 * file and fsyncs it; done by the committing connection, as SQLite does by default, that work
 * (and its fsync) would stall the relay's event loop every ~1000 pages.
 *
 * Durability is unchanged: a transaction is durable once its WAL frames are synced (the relay's
 * `synchronous=FULL` commit); checkpoints only move durable pages and fsync the database before
 * SQLite reuses the WAL. PASSIVE never waits for or blocks readers and the writer. If the worker
 * fails, `onFailure` is called (the adapter turns automatic checkpoints back on).
 *
 * What it leaves out on purpose: in-memory databases (no WAL) and any scheduling smarter than a
 * fixed interval.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints. At ~10k messages/s the WAL then stays near 1000 pages. */
export const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The worker: plain CommonJS (no TypeScript loader needed in the thread), given the resolved
 * driver path. It answers 'close' with 'closed' after closing its connection.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('synchronous = FULL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage('closed');
});
`;

export class WalCheckpointer {
  private closing: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {}

  /** Starts checkpointing `filename` (an existing database in WAL mode) in a worker thread. */
  static start(filename: string, onFailure: (reason: string) => void): WalCheckpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // No loaders or flags of the parent: the worker runs plain JavaScript.
      execArgv: [],
      workerData: { driver, filename, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    // The relay's shutdown waits for its own work, not for this thread.
    worker.unref();
    const checkpointer = new WalCheckpointer(worker);
    let failed = false;
    const fail = (reason: string) => {
      if (failed || checkpointer.closing !== null) return;
      failed = true;
      onFailure(reason);
    };
    worker.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'error' in m) fail(String(m.error));
    });
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`checkpoint worker exited (${code})`));
    return checkpointer;
  }

  /** Stops checkpointing and closes the worker's connection. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        void this.worker.terminate().then(() => resolve());
      };
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: unknown) => {
        if (m === 'closed') done();
      });
      this.worker.postMessage('close');
    });
    return this.closing;
  }
}
