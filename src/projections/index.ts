import { chunksProjection } from './chunksProjection.ts';
import { jobsProjection } from './jobsProjection.ts';
import { nodesProjection } from './nodesProjection.ts';
import type { Projection } from './projection.ts';
import { transfersProjection } from './transfersProjection.ts';

export const projections: readonly Projection[] = [transfersProjection, jobsProjection, chunksProjection, nodesProjection];

export function projectionNamed(name: string): Projection | undefined {
  return projections.find((projection) => projection.name === name);
}
