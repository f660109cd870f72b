import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../src/events/metadata.ts';

export function testContext(overrides: Partial<CommandContext> = {}): CommandContext {
  return { requestId: randomUUID(), actor: 'test', occurredAt: new Date().toISOString(), ...overrides };
}
