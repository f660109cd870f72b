import { createCleanupStack } from './cleanupStack.ts';
import { trapInterruptions } from './trapInterruptions.ts';

export type CleanupStack = ReturnType<typeof createCleanupStack>;

export interface BenchDefinition<O extends { help: boolean; json: boolean }, R> {
  log: (message: string) => void;
  usage: string;
  parseOptions: (args: string[], env: NodeJS.ProcessEnv) => O;
  measure: (options: O, signal: AbortSignal, cleanup: CleanupStack) => Promise<R>;
  formatReport: (report: R) => string;
}

/**
 * What every benchmark's main does: parse (exit 2 with usage on bad flags), measure under a
 * Ctrl-C trap, print the table or one JSON object on stdout, and always run the cleanup stack.
 */
export async function runBench<O extends { help: boolean; json: boolean }, R>(bench: BenchDefinition<O, R>, args: string[]): Promise<number> {
  let options: O;
  try {
    options = bench.parseOptions(args, process.env);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${bench.usage}`);
    return 2;
  }
  if (options.help) {
    console.log(bench.usage);
    return 0;
  }
  const interruptions = trapInterruptions(bench.log);
  const cleanup = createCleanupStack(bench.log);
  try {
    const report = await bench.measure(options, interruptions.signal, cleanup);
    console.log(options.json ? JSON.stringify(report) : bench.formatReport(report));
    return 0;
  } catch (error) {
    return interruptions.exitCodeFor(error);
  } finally {
    bench.log('cleaning up');
    await cleanup.runAll();
    interruptions.release();
  }
}
