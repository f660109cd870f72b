import { withTimeout } from './withTimeout.ts';

/**
 * Teardown steps, run last-registered first (the pool closes before its database is dropped).
 * Every step runs even when an earlier one failed, and each is bounded in time.
 */
export function createCleanupStack(log: (message: string) => void) {
  const steps: { what: string; run: () => Promise<unknown>; timeoutMs: number }[] = [];
  return {
    push(what: string, run: () => Promise<unknown>, timeoutMs = 5000): void {
      steps.push({ what, run, timeoutMs });
    },
    async runAll(): Promise<void> {
      for (const step of steps.splice(0).reverse()) {
        try {
          await withTimeout(step.run(), step.timeoutMs, step.what);
        } catch (error) {
          log(`cleanup: ${step.what} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  };
}
