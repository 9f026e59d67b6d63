// End-to-end test of the page and the embedding example in real headless Chromium.
//
// Serves dist/ and the real assets on 127.0.0.1, loads MiniLM, a real ticket and a dense
// classifier, checks that the page classifies a sentence with the same label and probability
// (to 1e-3) as the native trainer, runs one attack to the end (its queries on WebGPU), saves
// screenshots, then repeats with WebGPU switched off (the CPU fallback: the same attack must
// come out) and checks the embedding example page. A 3-class ticket (a user's CSV) dropped on
// the page shows its three probabilities, equal to the native ones.
//
// Environment: DIST, ASSETS (the asset folder), TICKET, DENSE (files), EXPECTED (JSON with the
// native results: {"text", "ticket": {label, probability}, "dense": {...}}), THREE_TICKET and
// THREE_EXPECTED (the 3-class ticket and its native answer), OUT (screenshots), PLAYWRIGHT (path
// of the playwright-core module).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { CHROMIUM_FLAGS, serve } from "./serve.mjs";

const env = (k) => { if (!process.env[k]) throw new Error(`set ${k}`); return process.env[k]; };
const require = createRequire(import.meta.url);
const { chromium } = require(env("PLAYWRIGHT"));
const expected = JSON.parse(fs.readFileSync(env("EXPECTED"), "utf8"));
// The 3-class ticket's native answer: {"text", "label", "probability", "labels"}.
const three = JSON.parse(fs.readFileSync(env("THREE_EXPECTED"), "utf8"));
const out = env("OUT");
fs.mkdirSync(out, { recursive: true });

const server = await serve([
  ["/assets/ticket.safetensors", env("TICKET")],
  ["/assets/classifier.safetensors", env("DENSE")],
  ["/assets/", env("ASSETS") + "/"],
  ["/", env("DIST") + "/"],
]);
const origin = server.origin;
const failures = [];
const check = (ok, message) => { console.log(`${ok ? "ok  " : "FAIL"} ${message}`); if (!ok) failures.push(message); };

async function run(label, flags, visit, { noWebGpu = false } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "rticket-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: "/usr/bin/chromium", args: [...CHROMIUM_FLAGS, ...flags], headless: true });
  // Without WebGPU: the API is removed before any page script runs, as in a browser without it.
  if (noWebGpu) await context.addInitScript(() => { delete Navigator.prototype.gpu; });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") console.log(`[${label} console] ${m.text()}`); });
  page.on("pageerror", (e) => console.log(`[${label} page error] ${e.message}`));
  try { await visit(page); } finally { await context.close(); fs.rmSync(userDataDir, { recursive: true, force: true }); }
}

const close = (a, b) => Math.abs(a - b) <= 1e-3;
const ATTACK_TEXT = "a funny film";
// Each run's attack (outcome, queries, adversarial text), to compare WebGPU with the CPU.
const attacks = {};

async function demo(label, flags, noWebGpu) {
  await run(label, flags, async (page) => {
    const started = Date.now();
    // SwiftShader is a software adapter, which "auto" passes over: force WebGPU to test it.
    await page.goto(`${origin}/index.html${noWebGpu ? "" : "?webgpu=force"}`);
    await page.waitForFunction(() => ["Ready.", "Loading failed."].includes(document.querySelector('[data-testid="status"]')?.textContent), null, { timeout: 600_000 });
    const error = await page.textContent('[data-testid="error"]');
    check(!error, `${label}: the page loaded without error (${((Date.now() - started) / 1000).toFixed(1)} s) ${error ?? ""}`);
    const backend = await page.textContent('[data-testid="backend"]');
    console.log(`${label}: backend: ${backend}`);
    check(noWebGpu ? backend.startsWith("CPU") && backend.includes("WebGPU is not available") : backend.startsWith("WebGPU (burn wgpu backend) for classification"),
      `${label}: the page classifies on ${noWebGpu ? "the CPU backend and says WebGPU is missing" : "WebGPU"}`);
    check(await page.textContent('[data-testid="base-check"]') !== null, `${label}: the ticket panel shows the base-model check`);
    await page.fill('[data-testid="input"]', expected.text);
    const t0 = Date.now();
    await page.click('[data-testid="classify"]');
    // The first WebGPU classification compiles every kernel (tens of seconds on SwiftShader).
    await page.waitForFunction((t) => document.querySelector('[data-testid="ticket-result"]').dataset.text === t, expected.text, { timeout: 600_000 });
    console.log(`${label}: first classification round trip ${Date.now() - t0} ms`);
    for (const which of ["ticket", "dense"]) {
      const got = { label: await page.textContent(`[data-testid="${which}-result-label"]`), probability: Number(await page.textContent(`[data-testid="${which}-result-probability"]`)) };
      check(got.label === expected[which].label && close(got.probability, expected[which].probability),
        `${label}: ${which} says ${got.label} ${got.probability.toFixed(6)}; native ${expected[which].label} ${expected[which].probability.toFixed(6)}`);
    }
    // A short text for the attack: on SwiftShader every new batch shape compiles its kernels anew
    // (minutes a word tried with 50 candidates), so the 11-word sentence overran ten minutes.
    await page.fill('[data-testid="input"]', ATTACK_TEXT);
    await page.selectOption('[data-testid="recipe"]', "text-fooler");
    const attackStarted = Date.now();
    await page.click('[data-testid="attack"]');
    try {
      // 102 queries took 494 s on SwiftShader (2 s on the CPU backend): allow 25 minutes.
      await page.waitForSelector('[data-testid="outcome"]', { timeout: 1_500_000 });
    } catch (e) {
      // Say how far the attack got (a slow software adapter, or a stuck worker?).
      const log = (await page.textContent('[data-testid="attack-log"]')) ?? "";
      console.log(`${label}: the attack has not finished after ${Date.now() - attackStarted} ms; ${await page.textContent('[data-testid="queries"]')}; log tail: ${log.slice(-600)}`);
      await page.screenshot({ path: path.join(out, `${label}-attack-timeout.png`), fullPage: true });
      throw e;
    }
    console.log(`${label}: attack ${Date.now() - attackStarted} ms`);
    const outcome = await page.textContent('[data-testid="outcome"]');
    const log = await page.textContent('[data-testid="attack-log"]');
    const queries = await page.textContent('[data-testid="queries"]');
    check(["succeeded", "failed", "skipped"].includes(outcome) && log.length > 0, `${label}: the attack ran to the end (${outcome}; ${queries})`);
    attacks[label] = { outcome, queries, text: await page.textContent('[data-testid="attack-text"]') };
    await page.screenshot({ path: path.join(out, `${label}.png`), fullPage: true });
    if (noWebGpu) return;
    // A second visit loads every file from the Cache API.
    check(await page.getAttribute('[data-testid="status"]', "data-from-cache") === "false", `${label}: the first visit downloads`);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === "Ready.", null, { timeout: 600_000 });
    check(await page.getAttribute('[data-testid="status"]', "data-from-cache") === "true", `${label}: a second visit loads every file from the Cache API`);
    // A bad local ticket gets the reader's message in the page, and the loaded one stays.
    const good = fs.readFileSync(env("TICKET"));
    const cases = [
      ["truncated.safetensors", good.subarray(0, Math.floor(good.length / 2)), "corrupt or truncated"],
      ["not-a-ticket.safetensors", Buffer.from("hello, I am not a ticket"), "corrupt or truncated"],
    ];
    for (const [name, buffer, message] of cases) {
      await page.setInputFiles('[data-testid="ticket-file"]', { name, mimeType: "application/octet-stream", buffer });
      await page.waitForFunction((n) => document.querySelector('[data-testid="error"]').textContent.startsWith(n), name);
      const shown = await page.textContent('[data-testid="error"]');
      check(shown.includes(message), `${label}: a bad ticket file is refused with a clear message: "${shown}"`);
    }
    // A ticket over the size cap is refused unread (a 200 MB file made in the page, never sent over).
    await page.evaluate((bytes) => {
      const files = new DataTransfer();
      files.items.add(new File([new Uint8Array(bytes)], "huge.safetensors"));
      const input = document.querySelector('[data-testid="ticket-file"]');
      input.files = files.files;
      input.dispatchEvent(new Event("change"));
    }, 200_000_001);
    await page.waitForFunction(() => document.querySelector('[data-testid="error"]').textContent.startsWith("huge.safetensors"));
    const huge = await page.textContent('[data-testid="error"]');
    check(huge.includes("200,000,001 bytes is over the 200,000,000 bytes a ticket may have"), `${label}: a 200 MB ticket is refused unread: "${huge}"`);
    check((await page.textContent('[data-testid="sparsity"]')) === "30.0%", `${label}: the loaded ticket stays after a refused file`);
    // A stranger's ticket whose labels and base model name are markup: shown as text, never run.
    const hostile = withMetadata(good, (md) => {
      const head = JSON.parse(md.classifier);
      head.labels = ['<img src=x onerror="window.pwned=1">', "<script>window.pwned=2</script>"];
      return { ...md, classifier: JSON.stringify(head), base_model: '<img src=y onerror="window.pwned=3">' };
    });
    await page.setInputFiles('[data-testid="ticket-file"]', { name: "hostile.safetensors", mimeType: "application/octet-stream", buffer: hostile });
    await page.waitForFunction(() => document.querySelector('[data-testid="ticket-result"]').textContent.includes("<script>"), null, { timeout: 600_000 });
    const injected = await page.evaluate(() => ({ pwned: window.pwned ?? null, elements: document.querySelectorAll('[data-testid="ticket-panel"] img, [data-testid="ticket-result"] img, [data-testid="ticket-result"] script').length }));
    const panel = await page.textContent('[data-testid="ticket-panel"]');
    check(injected.pwned === null && injected.elements === 0 && panel.includes('<img src=y onerror="window.pwned=3">'),
      `${label}: a ticket's labels and base model name are shown as text, never run (${JSON.stringify(injected)})`);
    // A 3-class ticket trained on a CSV of the user's own: three named probabilities, as natively.
    await page.fill('[data-testid="input"]', three.text);
    await page.setInputFiles('[data-testid="ticket-file"]', { name: "topics.safetensors", mimeType: "application/octet-stream", buffer: fs.readFileSync(env("THREE_TICKET")) });
    await page.waitForFunction((t) => document.querySelector('[data-testid="ticket-result"]').dataset.text === t, three.text, { timeout: 600_000 });
    const shown = await page.textContent('[data-testid="ticket-result"]');
    const got = { label: await page.textContent('[data-testid="ticket-result-label"]'), probability: Number(await page.textContent('[data-testid="ticket-result-probability"]')) };
    const rows = await page.locator('[data-testid="ticket-result"] > div').count();
    check(rows === three.labels.length + 1 && three.labels.every((l) => shown.includes(`${l} `)),
      `${label}: the 3-class ticket shows a probability for each of ${JSON.stringify(three.labels)}: "${shown.replace(/\s+/g, " ")}"`);
    check(got.label === three.label && close(got.probability, three.probability),
      `${label}: the 3-class ticket says ${got.label} ${got.probability.toFixed(6)}; native ${three.label} ${three.probability.toFixed(6)}`);
  }, { noWebGpu });
}

await demo("webgpu", ["--enable-unsafe-webgpu"], false);
await demo("no-webgpu", [], true);
// The attacked model answers every query on WebGPU in the first run and on the CPU in the
// second: the same attack must come out (the decisions do not hang on the last float bits).
check(JSON.stringify(attacks.webgpu) === JSON.stringify(attacks["no-webgpu"]),
  `the attack on WebGPU equals the attack on the CPU: ${JSON.stringify(attacks.webgpu)} vs ${JSON.stringify(attacks["no-webgpu"])}`);
// By default a software WebGPU adapter (SwiftShader here) is passed over for the CPU backend, and the page says so.
await run("auto", ["--enable-unsafe-webgpu"], async (page) => {
  await page.goto(`${origin}/index.html`);
  await page.waitForFunction(() => ["Ready.", "Loading failed."].includes(document.querySelector('[data-testid="status"]')?.textContent), null, { timeout: 600_000 });
  const backend = await page.textContent('[data-testid="backend"]');
  check(backend.startsWith("CPU") && backend.includes("the WebGPU adapter is software"), `auto: a software WebGPU adapter is passed over: "${backend}"`);
});

/** `ticket` with its safetensors metadata replaced by `edit(metadata)`: a stranger's file. */
function withMetadata(ticket, edit) {
  const length = Number(ticket.readBigUInt64LE(0));
  const header = JSON.parse(ticket.subarray(8, 8 + length).toString("utf8"));
  header.__metadata__ = edit(header.__metadata__);
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json, "utf8"), ticket.subarray(8 + length)]);
}

await run("embed", [], async (page) => {
  await page.goto(`${origin}/examples/embed.html?base=../assets/minilm/&ticket=../assets/ticket.safetensors`);
  await page.waitForSelector('[data-testid="label"]', { timeout: 600_000 });
  await page.fill("#review", expected.text);
  await page.click("#go");
  await page.waitForFunction((t) => document.getElementById("answer").dataset.text === t, expected.text);
  const got = { label: await page.textContent('[data-testid="label"]'), probability: Number(await page.textContent('[data-testid="probability"]')) };
  check(got.label === expected.ticket.label && close(got.probability, expected.ticket.probability),
    `embed: the example page says ${got.label} ${got.probability.toFixed(6)}; native ${expected.ticket.label} ${expected.ticket.probability.toFixed(6)}`);
  await page.screenshot({ path: path.join(out, "embed.png"), fullPage: true });
  // rticket.js's limits on a ticket, on the module a site imports: a ticket that does not load in
  // time is stopped and the model restarts with the ticket it had; over the cap, refused unread.
  const limits = await page.evaluate(async (text) => {
    const { load, TICKET_LIMITS } = await import("/js/rticket.js");
    const refused = (promise) => promise.then(() => null, (e) => e.message);
    const rt = await load({ base: "/assets/minilm/", ticket: "/assets/ticket.safetensors", ticketSeconds: 0.001 });
    const bytes = await (await fetch("/assets/ticket.safetensors")).arrayBuffer();
    const late = await refused(rt.loadTicket(bytes));
    const after = (await rt.classify(text)).ticket;
    const huge = await refused(rt.loadTicket(new Blob([new Uint8Array(TICKET_LIMITS.maxBytes + 1)])));
    const capped = await refused(load({ base: "/assets/minilm/", ticket: "/assets/ticket.safetensors", maxTicketBytes: 100_000 }));
    return { late, after, huge, capped, limits: TICKET_LIMITS };
  }, expected.text);
  check(limits.late?.includes("did not load within 0.001 s: stopped, and the model restarted with the ticket it had"), `embed: a ticket that loads too slowly is stopped: "${limits.late}"`);
  check(limits.after.label === expected.ticket.label && close(Math.max(...limits.after.probabilities), expected.ticket.probability),
    `embed: after the restart the first ticket answers as natively: ${JSON.stringify(limits.after)}`);
  check(limits.huge?.includes("200,000,001 bytes is over the 200,000,000 bytes a ticket may have") && limits.limits.seconds === 60, `embed: the default cap refuses a larger ticket unread: "${limits.huge}"`);
  check(limits.capped?.includes("bytes or more, over the 100,000 bytes it may have"), `embed: a ticket URL over the cap is refused while fetching: "${limits.capped}"`);
});

server.close();
if (failures.length) { console.error(`${failures.length} browser check(s) failed`); process.exit(1); }
console.log("all browser checks passed");
