import { createPgEventLog } from '../../src/infra/postgres/eventLog/pgEventLog.ts';
import { eventLogContract } from '../contracts/eventLog.contract.ts';
import { createTestStore, type TestStore } from '../helpers/testDatabase.ts';

// The same suite against the production store and the embedded default.
for (const store of ['postgres', 'pglite'] as const satisfies readonly TestStore[]) {
  eventLogContract(store === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)', async () => {
    const database = await createTestStore(store);
    return { eventLog: createPgEventLog(database.db), close: () => database.drop() };
  });
}
