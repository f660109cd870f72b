import { chunksProjection } from './chunksProjection.ts';
import { combineProjections } from './combineProjections.ts';
import { jobsProjection } from './jobsProjection.ts';
import { nodesProjection } from './nodesProjection.ts';
import type { Projection } from './projection.ts';
import { transfersProjection } from './transfersProjection.ts';

/** A transfer and its jobs are read together (GET /api/transfers/:id, transferProgress): one checkpoint for both. */
const transfersWithJobs = combineProjections('transfers', [transfersProjection, jobsProjection]);

export const projections: readonly Projection[] = [transfersWithJobs, chunksProjection, nodesProjection];

export function projectionNamed(name: string): Projection | undefined {
  return projections.find((projection) => projection.name === name);
}
