/**
 * Baseline, fetching side: a plain HTTP GET whose body is hashed with SHA-256 on the way to a
 * file, fsynced once at the end (the CAS makes every chunk durable; so does this, once).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { HttpClientCalls } from './roleProtocol.ts';
import { serveRole, usageNow } from './serveRole.ts';

serveRole<HttpClientCalls>({
  async fetch({ url, outPath }) {
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const response = await new Promise<IncomingMessage>((resolve, reject) => get(url, resolve).once('error', reject));
    if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
    const hash = createHash('sha256');
    let bytes = 0;
    await pipeline(
      response,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(outPath),
    );
    const file = await open(outPath, 'r');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    return { elapsedMs, cpu: { userUs: cpu.user, systemUs: cpu.system }, maxRssKiB: usageNow().maxRssKiB, bytes, sha256: hash.digest('hex') };
  },
});
