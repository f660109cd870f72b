import type { Projection } from './projection.ts';

/**
 * Read models that one view joins, applied as one projection: each batch goes through every part
 * in one transaction under one checkpoint, so the rows the view reads were brought to the same
 * place in the log. Two projections each follow the log at their own pace, and a transfer read
 * completed while its last job still read leased (test/e2e/dataPlane.e2e.test.ts, in CI).
 */
export function combineProjections(name: string, parts: readonly Projection[]): Projection {
  return {
    name,
    tables: parts.flatMap((part) => part.tables),
    async applyBatch(tx, events) {
      for (const part of parts) await part.applyBatch(tx, events);
    },
  };
}
