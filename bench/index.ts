/**
 * `bun run bench`: runs every `bench/*.bench.ts` in name order (or those named on the command
 * line), each printing its own table. Every comparison is measured in the same run, on the
 * same machine, against a baseline of its own.
 */
import path from "node:path";

const dir = import.meta.dir;
const only = process.argv.slice(2);
const files = [...new Bun.Glob("*.bench.ts").scanSync(dir)].sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
console.log(`# cronjobs benchmarks — ${new Date().toISOString()} — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`);
for (const file of files) {
  console.log(`\n## ${file}`);
  await import(path.join(dir, file));
}
