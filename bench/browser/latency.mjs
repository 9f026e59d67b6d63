// In-browser latency per sentence, after warm-up, of (a) rticket's classifier (base MiniLM +
// ticket, through web/js/rticket.js and its worker) and (b) transformers.js feature extraction
// with int8 all-MiniLM-L6-v2 on onnxruntime-web's WASM backend, in the same headless Chromium.
//
// Serves dist/, the assets, the ticket, the transformers.js package and its local model on
// 127.0.0.1 (as tests/browser/e2e.mjs does), blocks any request to another origin, and prints
// one JSON line per implementation: {impl, sentences, warmup, median_ms, mean_ms, p90_ms, backend}.
// Diagnostics (load times, a sample result) go to stderr.
//
// Run bench/browser/setup.sh first. Environment (all optional): DIST, ASSETS, TICKET, CSV,
// TFJS (folder holding node_modules/@huggingface/transformers), TFJS_MODELS, PLAYWRIGHT,
// CHROMIUM, SENTENCES (50), WARMUP (5), IMPLS ("rticket,rticket-webgpu,transformers.js"), TFJS_THREADS.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { CHROMIUM_FLAGS as flags, serve } from "../../tests/browser/serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const cache = path.join(os.homedir(), ".cache/rticket");
const env = (k, d) => process.env[k] || d;
const DIST = env("DIST", path.join(repo, "dist"));
const ASSETS = env("ASSETS", path.join(cache, "assets"));
const TICKET = env("TICKET", path.join(cache, "target/browser-test/work/draw/ticket-30.safetensors"));
const CSV = env("CSV", path.join(ASSETS, "data/mr-sentences.csv"));
const TFJS = env("TFJS", path.join(cache, "tfjs"));
const TFJS_MODELS = env("TFJS_MODELS", path.join(cache, "tfjs-models"));
const PLAYWRIGHT = env("PLAYWRIGHT", path.join(repo, ".tools/node_modules/playwright-core"));
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const N = Number(env("SENTENCES", "50"));
const WARMUP = Number(env("WARMUP", "5"));
const IMPLS = env("IMPLS", "rticket,rticket-webgpu,transformers.js").split(",");
const log = (...a) => console.error(...a);

for (const [name, p] of Object.entries({ DIST, ASSETS, TICKET, CSV, TFJS_MODELS, PLAYWRIGHT }))
  if (!fs.existsSync(p)) throw new Error(`${name}: ${p} does not exist (run bench/browser/setup.sh?)`);
const { chromium } = createRequire(import.meta.url)(PLAYWRIGHT);

// mr-sentences.csv: UTF-8 with BOM, no header, rows "label","text" (RFC 4180 quoting; texts
// may hold "" and a trailing newline inside the quotes).
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows.filter((r) => r.length > 1 || r[0] !== "");
}
const rows = parseCsv(fs.readFileSync(CSV, "utf8").replace(/^\uFEFF/, ""));
const textColumn = /^[01]$/.test(rows[0][0]) ? 1 : rows[0].indexOf("text"); // no header: label,text
const body = textColumn === rows[0].indexOf("text") ? rows.slice(1) : rows;
const sentences = body.slice(0, WARMUP + N).map((r) => r[textColumn].trim());
if (sentences.length < WARMUP + N) throw new Error(`${CSV} has only ${sentences.length} rows`);
log(`sentences: ${WARMUP} warm-up + ${N} timed; timed lengths ${Math.min(...sentences.slice(WARMUP).map((s) => s.split(" ").length))}..${Math.max(...sentences.slice(WARMUP).map((s) => s.split(" ").length))} words`);

const server = await serve([
  ["/assets/ticket.safetensors", TICKET],
  ["/assets/", ASSETS + "/"],
  ["/tfjs/", path.join(TFJS, "node_modules") + "/"],
  ["/models/", TFJS_MODELS + "/"],
  ["/bench/", here + "/"],
  ["/", DIST + "/"],
]);
const origin = server.origin;

const pages = {
  // rticket on the CPU backend in wasm, and on WebGPU (SwiftShader here: no GPU).
  rticket: "/bench/rticket.html?base=/assets/minilm/&ticket=/assets/ticket.safetensors&webgpu=0",
  "rticket-webgpu": "/bench/rticket.html?base=/assets/minilm/&ticket=/assets/ticket.safetensors&webgpu=force",
  "transformers.js": "/bench/transformers.html" + (process.env.TFJS_THREADS ? `?threads=${process.env.TFJS_THREADS}` : ""),
};

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => { const x = p * (s.length - 1), i = Math.floor(x); return s[i] + (s[Math.min(i + 1, s.length - 1)] - s[i]) * (x - i); };
  const r = (x) => Math.round(x * 100) / 100;
  return { median_ms: r(q(0.5)), mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length), p90_ms: r(q(0.9)) };
}

async function measure(impl) {
  const userDataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "rticket-bench-"));
  const args = impl === "rticket-webgpu" ? [...flags, "--enable-unsafe-webgpu"] : flags;
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args, headless: true });
  const offsite = [];
  // Nothing may come from outside this server (no CDN for the onnxruntime wasm, no model hub).
  await context.route((url) => !url.href.startsWith(origin), (route) => { offsite.push(route.request().url()); route.abort(); });
  try {
    const page = await context.newPage();
    page.on("console", (m) => { if (["error", "warning"].includes(m.type())) log(`[${impl} console ${m.type()}] ${m.text()}`); });
    page.on("pageerror", (e) => log(`[${impl} page error] ${e.message}`));
    await page.goto(origin + pages[impl]);
    await page.waitForFunction(() => window.benchState, null, { timeout: 600_000 });
    if (await page.evaluate(() => window.benchState) !== "ready") throw new Error(`${impl}: ${await page.evaluate(() => window.benchError)}`);
    const info = await page.evaluate(() => window.benchInfo);
    log(`${impl}: loaded in ${(info.load_ms / 1000).toFixed(1)} s; ${info.backend}`);
    const { times, sample } = await page.evaluate(([s, w]) => window.runBench(s, w), [sentences, WARMUP]);
    log(`${impl}: first timed sentence -> ${JSON.stringify(sample)}; min ${Math.min(...times).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`);
    if (offsite.length) throw new Error(`${impl}: requests outside ${origin} were blocked: ${offsite.join(", ")}`);
    return { impl, sentences: times.length, warmup: WARMUP, ...stats(times), backend: info.backend };
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

let failed = false;
for (const impl of IMPLS) {
  try { console.log(JSON.stringify(await measure(impl))); }
  catch (e) { failed = true; log(`FAIL ${e.message}`); }
}
server.close();
log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} (${os.cpus().length} CPUs)`);
process.exit(failed ? 1 : 0);
