/** Run by `bundle-macro.ts` in a child process: bundles the page and prints its files as JSON. */
import type { BundledFile } from "./bundle-macro.ts";

const result = await Bun.build({
  entrypoints: [`${import.meta.dir}/index.html`],
  target: "browser",
  minify: true,
  publicPath: "/assets/",
  naming: { entry: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const files: BundledFile[] = await Promise.all(result.outputs.map(async (out) => ({
  path: out.path.endsWith(".html") ? "/" : `/assets/${out.path.replace(/^\.\//, "")}`,
  type: out.type,
  text: await out.text(),
})));
process.stdout.write(JSON.stringify(files));
