import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Wire } from 'webtorrent';
import { duplicateToClose, keepsConnection, listenAddressOf, skipDialsToConnectedPeers } from '../../src/engine/duplicateWires.ts';

const wire = (peerId: string, type: 'tcpOutgoing' | 'tcpIncoming') => ({ peerId, type, destroyed: false }) as unknown as Wire;

describe('duplicate connections between two peers', () => {
  it('both ends keep the same one: the connection the lower peer id dialled', () => {
    const [low, high] = ['1a'.repeat(20), '9f'.repeat(20)];
    // low dialled high: low sees it outgoing, high sees it incoming; both keep it.
    assert.equal(keepsConnection(low, high, true), true);
    assert.equal(keepsConnection(high, low, false), true);
    // high dialled low: both drop it.
    assert.equal(keepsConnection(high, low, true), false);
    assert.equal(keepsConnection(low, high, false), false);
  });

  it('closes the connection the rule drops, whichever came first, and nothing without a duplicate', () => {
    const local = '1a'.repeat(20);
    const remote = '9f'.repeat(20);
    const outgoing = wire(remote, 'tcpOutgoing');
    const incoming = wire(remote, 'tcpIncoming');
    assert.equal(duplicateToClose(local, incoming, [outgoing, incoming]), incoming, 'the newer one is dropped');
    assert.equal(duplicateToClose(local, outgoing, [incoming, outgoing]), incoming, 'the older one is dropped');
    assert.equal(duplicateToClose(local, outgoing, [outgoing, wire('33'.repeat(20), 'tcpIncoming')]), undefined, 'another peer is no duplicate');
    assert.equal(duplicateToClose(local, outgoing, [wire(remote, 'tcpOutgoing'), outgoing]), undefined, 'two dialled the same way are left to webtorrent');
    const closed = Object.assign(wire(remote, 'tcpIncoming'), { destroyed: true });
    assert.equal(duplicateToClose(local, outgoing, [closed, outgoing]), undefined, 'a connection already closing does not count');
  });

  it("knows a peer that dialled in by the address its handshake's port gives, as the tracker lists it", () => {
    const incoming = (remoteAddress: string, p: unknown) => ({ remoteAddress, peerExtendedHandshake: { p } }) as unknown as Wire;
    assert.equal(listenAddressOf(incoming('198.18.0.5', 6881)), '198.18.0.5:6881');
    assert.equal(listenAddressOf(incoming('::ffff:198.18.0.5', 6881)), '198.18.0.5:6881', 'an IPv4 peer on a dual-stack socket');
    assert.equal(listenAddressOf(incoming('fd00::5', 6881)), '[fd00::5]:6881');
    for (const p of [undefined, 0, 70000, 6881.5, '6881']) assert.equal(listenAddressOf(incoming('198.18.0.5', p)), undefined, String(p));
  });

  it('does not dial a peer connected already through a connection it dialled, and dials every other address', () => {
    const dialled: unknown[] = [];
    const wires = [
      { type: 'tcpIncoming', destroyed: false, remoteAddress: '198.18.0.5', peerExtendedHandshake: { p: 6881 } },
      { type: 'tcpIncoming', destroyed: true, remoteAddress: '198.18.0.6', peerExtendedHandshake: { p: 6881 } },
      { type: 'tcpOutgoing', destroyed: false, remoteAddress: '198.18.0.7', peerExtendedHandshake: { p: 6881 } },
    ] as unknown as Wire[];
    const torrent = { wires, _addPeer: (peer: unknown, _type: string, _source: string): unknown => (dialled.push(peer), {}) };
    skipDialsToConnectedPeers(torrent);
    assert.equal(torrent._addPeer('198.18.0.5:6881', 'tcp', 'tracker'), null, 'connected: not dialled');
    torrent._addPeer('198.18.0.5:7000', 'tcp', 'tracker');
    torrent._addPeer('198.18.0.6:6881', 'tcp', 'tracker');
    torrent._addPeer('198.18.0.7:6881', 'tcp', 'tracker');
    assert.deepEqual(dialled, ['198.18.0.5:7000', '198.18.0.6:6881', '198.18.0.7:6881'], "another port, a closed connection, and one this end dialled (webtorrent's own check) go through");
  });
});
