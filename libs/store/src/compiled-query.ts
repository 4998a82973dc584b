import type { Compilable, CompiledQuery, QueryResult } from 'kysely';

/** A database or a transaction: what runs a compiled query. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A query built and compiled once, then run with new parameter values: for the store's queries
 * that run on every API request (the token lookup, the audit append, a run's status copy).
 * Building and compiling a Kysely query cost several times what SQLite takes to run such a small
 * indexed statement. `build` receives one placeholder per parameter and must use each as a plain
 * value (not inside SQL text); the compiled SQL is the dialect's of the first database it runs
 * on, so one instance serves one store (its transactions included).
 */
export class CompiledOnce<Args extends readonly unknown[], Row> {
  private compiled: { query: CompiledQuery<Row>; slots: (number | undefined)[] } | undefined;

  constructor(
    private readonly arity: Args['length'],
    private readonly build: (...placeholders: Args) => Compilable<Row>,
  ) {}

  async execute(db: QueryRunner, ...args: Args): Promise<QueryResult<Row>> {
    const { query, slots } = (this.compiled ??= this.compile());
    const parameters = query.parameters.map((fixed, i) => {
      const slot = slots[i];
      return slot === undefined ? fixed : args[slot];
    });
    return db.executeQuery<Row>({ ...query, parameters });
  }

  private compile(): { query: CompiledQuery<Row>; slots: (number | undefined)[] } {
    const placeholders = Array.from({ length: this.arity }, (_, i) => `\u0000compiled-once-parameter-${i}\u0000`);
    const query = this.build(...(placeholders as unknown as Args)).compile();
    const slots = query.parameters.map((value) => {
      const index = placeholders.indexOf(value as string);
      return index === -1 ? undefined : index;
    });
    const missing = placeholders.filter((_, i) => !slots.includes(i));
    if (missing.length > 0) throw new Error(`CompiledOnce: ${missing.length} placeholder(s) did not become parameters of ${query.sql}`);
    return { query, slots };
  }
}
