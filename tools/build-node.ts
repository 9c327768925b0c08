/**
 * The Node build (`npm run build`, run by `npm start` first): the program
 * and each worker's modules bundled by esbuild into plain JavaScript under
 * `dist/`, mirroring the sources (`src/main.ts` -> `dist/src/main.js`).
 * Running TypeScript through tsx costs every worker thread a loader thread
 * of its own on Node 20: seconds of start and a V8 heap each.
 *
 * Packages are bundled too, but `@deno/kv` (a native binding) and pino
 * (it starts threads from files of its own). `import.meta.url` keeps naming
 * the source file, so data next to the sources (catalog, locales) is found
 * as before, and the platform maps worker modules to their built files
 * (`Platform.loadable`). Deno runs the sources and needs none of this.
 */
import { readFile, rename, rm } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const root = new URL("../", import.meta.url);
const out = new URL("dist/", root);

/** The program and the modules its worker threads load. */
const ENTRIES = [
  "src/main.ts",
  "actors/worker-main.ts",
  "src/bot/shard-app.ts",
  "catalog/app.ts",
  "src/payments/app.ts",
];

/** `import.meta.url` as the source file's URL; Deno's platform left out (it is never loaded on Node). */
const sourcesAsWritten: Plugin = {
  name: "sources-as-written",
  setup(bundle) {
    bundle.onResolve({ filter: /platform\.deno\.ts$/ }, () => ({ path: "platform.deno", namespace: "left-out" }));
    bundle.onLoad({ filter: /.*/, namespace: "left-out" }, () => ({
      contents: "export const platform = undefined;",
      loader: "js",
    }));
    bundle.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      const text = await readFile(args.path, "utf8");
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: text.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

/**
 * Builds `dist/` afresh, with `extraEntries` (a benchmark's own programs)
 * beside the program's; resolves with how long it took.
 */
export async function buildNode(extraEntries: readonly string[] = []): Promise<number> {
  const started = performance.now();
  // Built beside `dist/` and swapped in at the end: a bot starting meanwhile (a test, a benchmark) finds a whole build.
  const fresh = new URL(`dist.${crypto.randomUUID()}/`, root);
  const stale = new URL(`dist.${crypto.randomUUID()}/`, root);
  await build({
    entryPoints: [...ENTRIES, ...extraEntries].map((entry) => fileURLToPath(new URL(entry, root))),
    outbase: fileURLToPath(root),
    outdir: fileURLToPath(fresh),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Packages are bundled too (one file to compile instead of hundreds), except native and thread-spawning ones.
    external: ["@deno/kv", "pino"],
    sourcemap: "linked",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
    // CommonJS packages inside an ES module bundle still `require` Node's modules.
    banner: {
      js: 'import { createRequire as __kieBotRequire } from "node:module"; const require = __kieBotRequire(import.meta.url);',
    },
    define: { __KIE_BOT_BUILD__: JSON.stringify({ source: root.href, out: out.href }) },
    plugins: [sourcesAsWritten],
  });
  await rename(out, stale).catch(() => undefined);
  await rename(fresh, out);
  await rm(stale, { recursive: true, force: true });
  return performance.now() - started;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const ms = await buildNode();
  console.error(`built dist/ in ${Math.round(ms)} ms`);
}
