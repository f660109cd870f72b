/**
 * The origin host's HTTP server (run inside the origin's namespace): the demo's Range-capable
 * origin for one file. Prints `ready <url>` once listening and `served <bytes>` on SIGUSR2, so
 * the harness reads the origin's payload bytes without a side channel on the shaped link.
 */
import { startLocalOrigin } from '../../src/demo/localOrigin.ts';

const [path, host] = process.argv.slice(2);
if (path === undefined || host === undefined) throw new Error('usage: originServer.ts <file> <address>');
const origin = await startLocalOrigin(path, { host });
process.stdout.write(`ready ${origin.url}\n`);
process.on('SIGUSR2', () => process.stdout.write(`served ${origin.bytesServed()}\n`));
process.on('SIGTERM', () => void origin.close().then(() => process.exit(0)));
