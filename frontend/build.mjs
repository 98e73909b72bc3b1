// Builds the static dashboard into dist/: one small ES-module entry (app-[hash].js: sign-in and the
// overview's first requests) that imports the app (chunk-start-[hash].js, modulepreloaded by
// index.html) dynamically, with code splitting so the Cognito client (oidc-client-ts) is only fetched
// in AWS mode, one CSS file (ours + uPlot's), and
// an index.html that names them. Prints the raw and gzipped sizes; fails over the 100 KB gz budget.
// Then the installable-app parts: public/ (manifest, icons) copied as is, each frontend/sw/*.js module
// copied with a content hash, and sw.js with its version and the list of shell files to precache.
import { build, context, transform } from "esbuild";
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
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
  target: ["chrome100", "firefox100", "safari15"],
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
  plugins: [editUplot()],
};

/**
 * Two edits of uPlot's source; the build fails if it no longer reads as expected (an upgrade).
 * - uPlot builds an Intl.NumberFormat and an Intl.DateTimeFormat as its module is evaluated; the first
 *   Intl object of a page loads ICU's locale data (35–50 ms of a cold load's main thread on a 2-vCPU
 *   machine), though our charts format their own axes and values and pass no time zone. Both are built
 *   on first use instead.
 * - Its stepped and spline path builders are never used (Chart.jsx draws lines, areas and bars): not
 *   registered, esbuild leaves them out (~1 KB gz).
 */
function editUplot() {
  const edits = [
    ["const numFormatter = new Intl.NumberFormat(domEnv ? nav.language : 'en-US');\nconst fmtNum = val => numFormatter.format(val);",
      "let numFormatter = null;\nconst fmtNum = val => (numFormatter ||= new Intl.NumberFormat(domEnv ? nav.language : 'en-US')).format(val);"],
    ["const localTz = new Intl.DateTimeFormat().resolvedOptions().timeZone;", "let localTzName = null;\nconst localTz = () => (localTzName ||= new Intl.DateTimeFormat().resolvedOptions().timeZone);"],
    ["else if (tz == localTz)", "else if (tz == localTz())"],
    ["\t(paths.stepped = stepped);\n", ""],
    ["\t(paths.spline  = monotoneCubic);\n", ""],
  ];
  return {
    name: "edit-uplot",
    setup(b) {
      b.onLoad({ filter: /uplot[\\/]dist[\\/]uPlot\.esm\.js$/ }, async (args) => {
        let source = await readFile(args.path, "utf8");
        for (const [from, to] of edits) {
          if (source.split(from).length !== 2) throw new Error(`uPlot changed: "${from.split("\n")[0]}" is not in ${args.path} once`);
          source = source.replace(from, to);
        }
        return { contents: source, loader: "js" };
      });
    },
  };
}

const entryOf = (metafile) => Object.keys(metafile.outputs).find((p) => (metafile.outputs[p].entryPoint || "").endsWith("main.jsx"));

/**
 * V8's explicit compile hint (Chromium 136+; other engines ignore the comment) on the app's chunks
 * (`appChunks`: what index.html preloads): each compiles whole on the streaming parser's thread while
 * it arrives, instead of function by function on the main thread at each first call (the shell's
 * first render was mostly such first calls). Not on the lazy Cognito chunk: in AWS mode most of the
 * OIDC client never runs, and compiling all of it would hold up sign-in. Added after esbuild named
 * the files: the comment is the same in every build, so a name still stands for its code. Cold overview loads
 * alternated on one server: charts drawn 299-402 ms against 327-558 without it (medians of 5, six
 * rounds; docs/frontend.md "Overview load, 2026-12-04 (second session)"); 28 B gz a chunk.
 */
async function hintEagerCompile(metafile) {
  for (const file of appChunks(metafile, entryOf(metafile))) {
    await writeFile(file, `//# allFunctionsCalledOnLoad\n${await readFile(file, "utf8")}`);
  }
}

async function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const rel = (p) => path.relative(dist, path.resolve(p));
  const js = outputs.find(([p]) => p === entryOf(metafile));
  const css = outputs.find(([p]) => p.endsWith(".css"));
  const template = await readFile(path.join(here, "index.html"), "utf8");
  const preload = appChunks(metafile, js[0]).map((p) => `<link rel="modulepreload" href="${rel(p)}">`).join("\n");
  const html = template
    .replace("%APP_JS%", rel(js[0]))
    .replace("%APP_CSS%", css ? rel(css[0]) : "")
    .replace("%PRELOAD%", preload);
  await writeFile(path.join(dist, "index.html"), html);
  return outputs.map(([p]) => p);
}

/**
 * The chunks the entry imports dynamically to start the app (not the Cognito client) and everything
 * they import: index.html preloads them, so they download while the entry signs in and sends the
 * overview's requests, and the dynamic import then only evaluates them.
 */
function appChunks(metafile, entry) {
  const found = new Set();
  const visit = (file, kinds) => {
    for (const imp of metafile.outputs[file].imports) {
      if (!kinds.includes(imp.kind) || imp.external || imp.path === entry || found.has(imp.path)) continue;
      if (/cognito|oidc/.test(imp.path)) continue;
      found.add(imp.path);
      visit(imp.path, ["import-statement"]);
    }
  };
  visit(entry, ["dynamic-import"]);
  return [...found];
}

const hash = (data) => createHash("sha256").update(data).digest("hex").slice(0, 12);

/** public/ into dist/, the service-worker modules, then sw.js naming the shell; returns the new files. */
async function writeServiceWorker(outputs) {
  await cp(path.join(here, "public"), dist, { recursive: true });
  const rel = (p) => path.relative(dist, path.resolve(p)).split(path.sep).join("/");
  const modules = [];
  for (const name of (await readdir(path.join(here, "sw"))).filter((n) => n.endsWith(".js")).sort()) {
    const source = await readFile(path.join(here, "sw", name), "utf8");
    const body = watch ? source : (await transform(source, { minify: true, target: "es2020" })).code; // as sw.js
    const file = `sw-${name.replace(/\.js$/, "")}-${hash(body)}.js`;
    await writeFile(path.join(dist, file), body);
    modules.push(file);
  }
  const icons = (await readdir(path.join(dist, "icons"))).map((n) => `icons/${n}`);
  const shell = ["./", "index.html", "config.json", "manifest.webmanifest", ...icons, ...outputs.filter((p) => /\.(js|css)$/.test(p)).map(rel)];
  const contents = await Promise.all(shell.filter((p) => !["./", "config.json"].includes(p)).concat(modules).map((p) => readFile(path.join(dist, p))));
  const template = await readFile(path.join(here, "sw.js"), "utf8");
  const sw = template
    .replace("%VERSION%", hash(Buffer.concat(contents)))
    .replace("%SHELL%", JSON.stringify(shell))
    .replace("%MODULES%", JSON.stringify(modules.map((m) => `./${m}`)));
  await writeFile(path.join(dist, "sw.js"), watch ? sw : (await transform(sw, { minify: true, target: "es2020" })).code);
  return [path.join(dist, "sw.js"), ...modules.map((m) => path.join(dist, m))];
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
    plugins: [...options.plugins, { name: "index", setup(b) { b.onEnd(async (r) => { if (r.metafile) await writeServiceWorker(await writeIndex(r.metafile)); console.log("rebuilt"); }); } }],
  });
  await ctx.watch();
} else {
  const result = await build(options);
  await hintEagerCompile(result.metafile);
  const files = await writeIndex(result.metafile);
  const worker = await writeServiceWorker(files);
  await report([...files, ...worker]);
  console.log(`  built in ${Date.now() - started} ms`);
}
