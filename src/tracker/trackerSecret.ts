import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The key that signs announce keys: from the configuration (required when several api replicas
 * share a fleet), or generated once under the data directory and kept (mode 0600), so announce
 * URLs handed out stay valid across restarts.
 */
export async function loadOrCreateTrackerSecret(dataDir: string, configured: Buffer | undefined): Promise<Buffer> {
  if (configured !== undefined) return configured;
  const path = join(dataDir, 'tracker-secret');
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    await writeFile(path, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // A concurrent start wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateTrackerSecret(dataDir, undefined);
    throw error;
  }
  return secret;
}
