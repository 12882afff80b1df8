import type { ValueTransformer } from 'typeorm';

/** `bigint` columns come back from pg as strings; counters here stay far below 2^53. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * The rows of an `UPDATE … RETURNING` run through `DataSource.query` / `EntityManager.query`: TypeORM's
 * Postgres driver answers `[rows, affectedCount]` for UPDATE and DELETE but plain rows for SELECT and INSERT.
 */
export function updatedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
