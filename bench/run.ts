/**
 * Runs every bench/*.bench.ts in name order: `npm run bench`, or `npm run bench -- identity` to
 * run only the files whose name contains "identity". Each bench file exports
 * `run(): Promise<void>` and prints its own figures, with ratios against a baseline measured in
 * the same run.
 */
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';

const dir = new URL('.', import.meta.url);
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${JSON.stringify(filters)}`);
  process.exit(1);
}

console.log(
  `node ${process.version}, ${cpus().length} cpu (${cpus()[0]?.model ?? '?'}), ` +
    `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
);
for (const name of files) {
  const module = (await import(pathToFileURL(new URL(name, dir).pathname).href)) as { run?: () => Promise<void> };
  if (typeof module.run !== 'function') throw new Error(`${name} does not export run()`);
  console.log(`\n## ${name}`);
  const started = performance.now();
  await module.run();
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
