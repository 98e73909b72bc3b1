// Builds the static dashboard into dist/: one ES-module entry (app-[hash].js) with code splitting so
// the Cognito client (oidc-client-ts) is only fetched in AWS mode, one CSS file (ours + uPlot's), and
// an index.html that names them. Prints the raw and gzipped sizes; fails over the 100 KB gz budget.
import { build, context } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(here, "dist");
const BUDGET_GZ = 100 * 1024;
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: { app: path.join(here, "src/main.jsx") },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  outdir: dist,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[name]-[hash]",
  assetNames: "[name]-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
};

async function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const rel = (p) => path.relative(dist, path.resolve(p));
  const js = outputs.find(([, o]) => o.entryPoint && o.entryPoint.endsWith("main.jsx"));
  const css = outputs.find(([p]) => p.endsWith(".css"));
  const template = await readFile(path.join(here, "index.html"), "utf8");
  const html = template
    .replace("%APP_JS%", rel(js[0]))
    .replace("%APP_CSS%", css ? rel(css[0]) : "");
  await writeFile(path.join(dist, "index.html"), html);
  return outputs.map(([p]) => p);
}

async function report(files) {
  let raw = 0;
  let gz = 0;
  let initialGz = 0;
  const rows = [];
  for (const file of files) {
    if (!/\.(js|css)$/.test(file)) continue;
    const body = await readFile(file);
    const z = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gz += z;
    const lazy = path.basename(file).startsWith("chunk-") && /oidc|cognito/.test(file);
    if (!lazy) initialGz += z;
    rows.push(`  ${path.basename(file).padEnd(40)} ${String(body.length).padStart(8)} B  ${String(z).padStart(7)} B gz${lazy ? "  (lazy, cognito only)" : ""}`);
  }
  console.log(rows.join("\n"));
  console.log(`  total JS+CSS: ${raw} B raw, ${gz} B gzipped (${(gz / 1024).toFixed(1)} KB); loaded in local mode: ${(initialGz / 1024).toFixed(1)} KB gz`);
  await writeFile(path.join(dist, "build-stats.json"), JSON.stringify({ raw, gzip: gz, initial_gzip: initialGz }));
  if (gz > BUDGET_GZ) {
    console.error(`over budget: ${gz} B gz > ${BUDGET_GZ} B`);
    process.exit(1);
  }
}

const started = Date.now();
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
if (watch) {
  const ctx = await context({
    ...options,
    plugins: [{ name: "index", setup(b) { b.onEnd(async (r) => { if (r.metafile) await writeIndex(r.metafile); console.log("rebuilt"); }); } }],
  });
  await ctx.watch();
} else {
  const result = await build(options);
  const files = await writeIndex(result.metafile);
  await report(files);
  console.log(`  built in ${Date.now() - started} ms`);
}
