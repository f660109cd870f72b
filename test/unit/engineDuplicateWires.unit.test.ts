import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Wire } from 'webtorrent';
import { duplicateToClose, keepsConnection } from '../../src/engine/duplicateWires.ts';

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
});
