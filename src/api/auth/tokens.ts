import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import { Value } from 'typebox/value';

export const scopes = ['read', 'write', 'admin', 'node'] as const;
export type Scope = (typeof scopes)[number];

/**
 * What each scope grants. Admin can do everything; write can read. A node token (subject
 * `node:<id>`) reads, and reports for its own node's jobs only (checked by the routes); it
 * cannot create or steer transfers.
 */
const grants: Record<Scope, readonly Scope[]> = {
  read: ['read'],
  write: ['write', 'read'],
  admin: ['admin', 'write', 'read', 'node'],
  node: ['node', 'read'],
};

export interface Principal {
  subject: string;
  scopes: readonly Scope[];
}

export function hasScope(principal: Principal, needed: Scope): boolean {
  return principal.scopes.some((scope) => grants[scope].includes(needed));
}

interface TokenEntry extends Principal {
  digest: Buffer;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Tokens are kept only as SHA-256 digests. Lookup compares the digest of the presented token
 * against every entry with timingSafeEqual and no early exit, so neither a token's bytes nor
 * its position in the list shows in the response time.
 */
export class TokenStore {
  readonly #entries: TokenEntry[];

  constructor(entries: TokenEntry[]) {
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  authenticate(presented: string): Principal | undefined {
    const digest = sha256(presented);
    let match: TokenEntry | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, digest) && match === undefined) match = entry;
    }
    return match === undefined ? undefined : { subject: match.subject, scopes: match.scopes };
  }
}

const TokensFileSchema = Type.Array(
  Type.Object(
    {
      subject: Type.String({ minLength: 1 }),
      scopes: Type.Array(Type.Union(scopes.map((scope) => Type.Literal(scope))), { minItems: 1 }),
      token: Type.Optional(Type.String({ minLength: 16 })),
      sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    },
    { additionalProperties: false },
  ),
);

export function parseTokensFile(text: string, origin: string): TokenEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Value.Check(TokensFileSchema, parsed)) {
    const first = [...Value.Errors(TokensFileSchema, parsed)][0];
    const where = first?.instancePath ? `${first.instancePath} ` : '';
    throw new Error(`${origin}: ${where}${first?.message ?? 'is invalid'}`);
  }
  return parsed.map((entry, index) => {
    if ((entry.token === undefined) === (entry.sha256 === undefined)) {
      throw new Error(`${origin}: entry ${index} needs exactly one of "token" and "sha256"`);
    }
    const digest = entry.token !== undefined ? sha256(entry.token) : Buffer.from(entry.sha256!, 'hex');
    return { subject: entry.subject, scopes: entry.scopes, digest };
  });
}

const nodeSubjectPrefix = 'node:';

export const nodeSubject = (nodeId: string): string => `${nodeSubjectPrefix}${nodeId}`;

/** A node token acts for its own node; admin acts for any. */
export function mayActForNode(principal: Principal, nodeId: string): boolean {
  return principal.scopes.includes('admin') || (principal.subject === nodeSubject(nodeId) && hasScope(principal, 'node'));
}

export function tokenEntry(subject: string, scopes: readonly Scope[], token: string): TokenEntry {
  return { subject, scopes, digest: sha256(token) };
}

export function adminTokenEntry(token: string): TokenEntry {
  return { subject: 'admin', scopes: ['admin'], digest: sha256(token) };
}

export const generatedTokenFile = (dataDir: string): string => join(dataDir, 'admin-token');

/** Reads the admin token generated on an earlier start, or generates and stores one (mode 0600). */
export async function loadOrCreateAdminToken(dataDir: string): Promise<{ token: string; path: string; created: boolean }> {
  const path = generatedTokenFile(dataDir);
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token === '') throw new Error(`${path} is empty; delete it to generate a new admin token`);
    return { token, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const token = `te_${randomBytes(24).toString('base64url')}`;
  // Written whole to a private temp file, then linked into place: the link fails if a concurrent
  // start got there first (then we read theirs), and nobody ever sees a half-written file.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateAdminToken(dataDir);
    throw error;
  } finally {
    await unlink(temp);
  }
  return { token, path, created: true };
}

export async function loadTokenStore(options: { adminToken?: string; tokensFile?: string; extraEntries?: readonly TokenEntry[] }): Promise<TokenStore> {
  const entries: TokenEntry[] = [...(options.extraEntries ?? [])];
  if (options.adminToken !== undefined) entries.push(adminTokenEntry(options.adminToken));
  if (options.tokensFile !== undefined) {
    entries.push(...parseTokensFile(await readFile(options.tokensFile, 'utf8'), options.tokensFile));
  }
  return new TokenStore(entries);
}
