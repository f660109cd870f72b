/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each benchmark is a module with a
 * `main(args)` that resolves to the exit code; it is imported only when named, so one
 * benchmark's dependencies never load for another.
 */
export interface Benchmark {
  main(args: string[]): Promise<number>;
}

const benchmarks: Record<string, () => Promise<Benchmark>> = {
  'control-plane': () => import('./controlPlane.ts'),
  fleet: () => import('./fleet/main.ts'),
  'origin-read': () => import('./originRead.ts'),
  pair: () => import('./pair.ts'),
  relay: () => import('./relay.ts'),
};

function usage(): string {
  return [
    'usage: npm run bench -- <name> [options]',
    '',
    'benchmarks:',
    ...Object.keys(benchmarks).map((name) => `  ${name}`),
    '',
    'Run `npm run bench -- <name> --help` for its options.',
  ].join('\n');
}

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benchmarks[name];
if (load === undefined) {
  console.error(name === undefined ? usage() : `unknown benchmark "${name}"\n\n${usage()}`);
  process.exitCode = 2;
} else {
  const code = await (await load()).main(args);
  process.exitCode = code;
  // Everything is closed by now; a handle something left open must not keep a finished run alive.
  setTimeout(() => {
    console.error('bench: handles still open after the run; exiting anyway');
    process.exit(code);
  }, 3000).unref();
}
