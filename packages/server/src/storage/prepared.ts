/**
 * Precompiled Kysely queries for the hot paths (sending, acknowledging, draining). Building and
 * compiling a Kysely query costs more than running a small SQLite statement; a prepared query is
 * compiled once, with placeholder values, and re-run with new parameters in the same positions.
 * The SQL text is still Kysely's, for whichever dialect the adapter supplied, so this stays
 * portable (and the adapter's statement cache sees one SQL text per query).
 */
import type { CompiledQuery, Compilable, QueryResult } from 'kysely';

/** A Kysely instance or transaction, or an adapter's direct executor (kysely-storage.ts). */
export interface QueryExecutor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /**
   * Optional: runs `query`'s SQL, which returns no rows, with `parameters` in place of the
   * compiled ones, and answers the number of rows it changed — without building a new compiled
   * query or the bigint of `QueryResult.numAffectedRows` (the per-message path avoids both).
   */
  executeChanges?(query: CompiledQuery, parameters: readonly unknown[]): Promise<number>;
}

type Slot<A> = { readonly arg: keyof A } | { readonly constant: unknown };

export class PreparedQuery<A extends Record<string, unknown>, R> {
  private compiled: CompiledQuery<R> | null = null;
  private slots: Slot<A>[] = [];

  constructor(
    private readonly names: readonly (keyof A & string)[],
    private readonly build: (args: A) => Compilable<R>,
  ) {}

  private prepare(): CompiledQuery<R> {
    if (this.compiled !== null) return this.compiled;
    const placeholders: Record<string, string> = {};
    for (const n of this.names) placeholders[n] = `\u0000sotto-param:${n}\u0000`;
    const compiled = this.build(placeholders as A).compile();
    this.slots = compiled.parameters.map((value): Slot<A> => {
      const name = this.names.find((n) => placeholders[n] === value);
      return name === undefined ? { constant: value } : { arg: name };
    });
    for (const n of this.names) {
      if (!this.slots.some((s) => 'arg' in s && s.arg === n)) {
        throw new Error(`prepared query does not use its parameter ${n}`);
      }
    }
    this.compiled = compiled;
    return compiled;
  }

  execute(db: QueryExecutor, args: A): Promise<QueryResult<R>> {
    // Same SQL and query node, new parameters: no rebuilding, no recompiling.
    return db.executeQuery(this.bind(args));
  }

  /** Runs a statement without result rows; resolves with the number of rows it changed. */
  async changes(db: QueryExecutor, args: A): Promise<number> {
    const compiled = this.prepare();
    const parameters = this.parameters(args);
    if (db.executeChanges !== undefined) return db.executeChanges(compiled, parameters);
    return Number((await db.executeQuery({ ...compiled, parameters })).numAffectedRows ?? 0n);
  }

  private bind(args: A): CompiledQuery<R> {
    const compiled = this.prepare();
    return { ...compiled, parameters: this.parameters(args) };
  }

  private parameters(args: A): unknown[] {
    const slots = this.slots;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      parameters[i] = 'arg' in s ? args[s.arg] : s.constant;
    }
    return parameters;
  }
}
