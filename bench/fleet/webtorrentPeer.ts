/**
 * One stock webtorrent client (run inside a host's namespace): `seed` verifies the artifact
 * already in DIR and prints `ready`; `leech` prints `waiting`, and on SIGHUP (the clock's start,
 * so process start-up is not timed) downloads into DIR and prints `done`. Both keep
 * seeding until SIGTERM and print `uploaded <bytes>` on SIGUSR2. Defaults throughout, except the
 * discovery that needs the internet (DHT, LSD multicast, UPnP, NAT-PMP): peers come from the tracker.
 */
import { readFile } from 'node:fs/promises';
import WebTorrent from 'webtorrent';

const [role, torrentPath, dir] = process.argv.slice(2);
if ((role !== 'seed' && role !== 'leech') || torrentPath === undefined || dir === undefined) throw new Error('usage: webtorrentPeer.ts seed|leech <file.torrent> <dir>');

const client = new WebTorrent({ dht: false, lsd: false, natUpnp: false, natPmp: false });
client.on('error', (error) => {
  process.stderr.write(`webtorrent: ${String(error)}\n`);
  process.stdout.write('failed\n');
});
const torrentFile = await readFile(torrentPath);
let uploaded = (): number => 0;
const start = (): void => {
  const torrent = client.add(torrentFile, { path: dir });
  const announce = (): void => void process.stdout.write(role === 'seed' ? 'ready\n' : 'done\n');
  torrent.on('done', announce);
  torrent.on('ready', () => {
    if (torrent.progress === 1) announce();
  });
  uploaded = () => torrent.uploaded;
};
if (role === 'seed') start();
else process.once('SIGHUP', start).stdout.write('waiting\n');
process.on('SIGUSR2', () => process.stdout.write(`uploaded ${uploaded()}\n`));
process.on('SIGTERM', () => client.destroy(() => process.exit(0)));
