import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Torrent } from 'webtorrent';
import { coalesceUpdates } from '../../src/engine/coalesceUpdates.ts';

/** A torrent whose request pass counts its runs, and may ask for another while it runs. */
function countingTorrent(duringPass: (torrent: Torrent) => void = () => {}) {
  const torrent = {
    passes: 0,
    _update(): void {
      this.passes++;
      duringPass(torrent as unknown as Torrent);
    },
  };
  return torrent;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('coalesced request passes', () => {
  it('runs one pass for the blocks of one socket read, after the code that asked', async () => {
    const torrent = countingTorrent();
    coalesceUpdates(torrent as unknown as Torrent);
    for (let block = 0; block < 4; block++) torrent._update();
    assert.equal(torrent.passes, 0, 'not in the middle of the caller');
    await turn();
    assert.equal(torrent.passes, 1);
    torrent._update();
    await turn();
    assert.equal(torrent.passes, 2, 'a later ask gets a pass of its own');
  });

  it('runs again when asked during a pass: what that pass changed is seen', async () => {
    let again = true;
    const torrent = countingTorrent((self) => {
      if (!again) return;
      again = false;
      self._update();
    });
    coalesceUpdates(torrent as unknown as Torrent);
    torrent._update();
    await turn();
    assert.equal(torrent.passes, 2);
  });
});
