import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageBus } from '../../src/bus/messageBus.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createControlPlane, type ControlPlane } from '../../src/runtime/controlPlane.ts';
import { createTestStore, type TestStore } from './testDatabase.ts';

export const tokens = {
  admin: 'test-admin-token-0123456789',
  writer: 'test-writer-token-0123456789',
  reader: 'test-reader-token-0123456789',
} as const;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface TestControlPlane {
  plane: ControlPlane;
  dataDir: string;
  close(): Promise<void>;
}

/** A control plane on a fresh store, with an admin, a writer and a reader token. */
export async function startTestControlPlane(
  store: TestStore,
  options: { port?: number; relay?: boolean; bus?: MessageBus; extraTokens?: Array<{ subject: string; scopes: string[]; token: string }> } = {},
): Promise<TestControlPlane> {
  const database = await createTestStore(store);
  const dataDir = await mkdtemp(join(tmpdir(), 'te-api-'));
  const tokensFile = join(dataDir, 'tokens.json');
  await writeFile(
    tokensFile,
    JSON.stringify([
      { subject: 'ci-pipeline', scopes: ['write'], token: tokens.writer },
      { subject: 'dashboard', scopes: ['read'], token: tokens.reader },
      ...(options.extraTokens ?? []),
    ]),
  );
  const config = loadConfig({}, {
    token: tokens.admin,
    'tokens-file': tokensFile,
    'data-dir': dataDir,
    port: String(options.port ?? 0),
  });
  const plane = await createControlPlane(
    config,
    { logger: silentLogger() },
    { projector: true, db: database.db, ...(options.relay ? { relay: true } : {}), ...(options.bus ? { bus: options.bus } : {}) },
  );
  return {
    plane,
    dataDir,
    async close() {
      await plane.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
