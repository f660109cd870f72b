import type { Config } from '../../config.ts';
import { createPgEventLog } from '../../infra/postgres/eventLog/pgEventLog.ts';
import { createLogger } from '../../observability/logger.ts';
import { projectionNamed, projections } from '../../projections/index.ts';
import { replayProjection } from '../../projections/replayProjection.ts';
import { openDatabase } from '../../runtime/openDatabase.ts';

export async function runReplay(config: Config, names: readonly string[]): Promise<void> {
  const selected = names.includes('all') ? projections : names.map((name) => {
    const projection = projectionNamed(name);
    if (projection === undefined) throw new Error(`no projection "${name}"; there are ${projections.map((p) => p.name).join(', ')} (or all)`);
    return projection;
  });
  if (selected.length === 0) throw new Error('name a projection: --projection <name> (or --projection all)');
  const logger = createLogger({ level: config.logLevel });
  const db = await openDatabase(config, { logger }, { migrate: true });
  try {
    const eventLog = createPgEventLog(db);
    for (const projection of selected) {
      const started = performance.now();
      const { events } = await replayProjection({ db, eventLog }, projection);
      console.log(`${projection.name}: rebuilt from ${events} events in ${Math.round(performance.now() - started)} ms`);
    }
  } finally {
    await db.close();
  }
}
