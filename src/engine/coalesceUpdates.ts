import type { Torrent } from 'webtorrent';

/**
 * Runs a torrent's request pass (_update: every wire's pipeline topped up) once, in a microtask,
 * for all the asks made before it starts. webtorrent runs a whole pass after every block it
 * receives, and a socket read holds several blocks: the passes' closures and arrays were a quarter
 * of what a fleet worker allocated (bench fleet, sampling heap profiler), and the passes after the
 * first found nothing to do. A pass asked for while one is queued is the same pass; one asked for while it runs is
 * queued again, so what that pass changed is seen.
 */
export function coalesceUpdates(torrent: Torrent): void {
  const update = torrent._update.bind(torrent);
  let queued = false;
  torrent._update = (): void => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      update();
    });
  };
}
