/**
 * Precompiled Kysely queries for the hot paths (sending, acknowledging, draining). Building and
 * compiling a Kysely query costs more than running a small SQLite statement; a prepared query is
 * compiled once, with placeholder values, and re-run with new parameters in the same positions.
 * The SQL text is still Kysely's, for whichever dialect the adapter supplied, so this stays
 * portable (and the adapter's statement cache sees one SQL text per query).
 */
import type { CompiledQuery, Compilable, QueryResult } from 'kysely';

/** A Kysely instance or transaction. */
export interface QueryExecutor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
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
    const compiled = this.prepare();
    const parameters = this.slots.map((s) => ('arg' in s ? args[s.arg] : s.constant));
    // Same SQL and query node, new parameters: no rebuilding, no recompiling.
    return db.executeQuery({ ...compiled, parameters });
  }
}
