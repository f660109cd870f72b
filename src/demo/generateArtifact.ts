import { createCipheriv, createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * Writes `size` bytes that look random (AES-CTR over zeros, about 1 GB/s: much faster than
 * randomBytes) and returns their SHA-256. Random content keeps compression out of the
 * measurement. The bytes depend on `seed` only, so two artifacts of one seed share their common
 * prefix, piece for piece: give a distinct seed where a CAS that already holds one must not
 * deduplicate the other.
 */
export async function generateArtifact(path: string, size: number, seed = 7): Promise<string> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 0));
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const block = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written)));
      hash.update(block);
      await file.write(block);
      written += block.length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}
