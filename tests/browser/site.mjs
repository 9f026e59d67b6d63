// The site folder `rticket site` assembles (what `make demo` serves), served by `rticket site
// --serve`, in headless Chromium: it loads from manifest.json, classifies as the native trainer
// does, runs an attack to its end, and switches tickets through the chooser (a 3-class ticket).
//
// Environment: SITE_URL (where `rticket site --serve` listens), EXPECTED and THREE_EXPECTED (the
// native answers, as for e2e.mjs), OUT (screenshots), PLAYWRIGHT (playwright-core's path).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { CHROMIUM_FLAGS } from "./serve.mjs";

const env = (k) => { if (!process.env[k]) throw new Error(`set ${k}`); return process.env[k]; };
const { chromium } = createRequire(import.meta.url)(env("PLAYWRIGHT"));
const expected = JSON.parse(fs.readFileSync(env("EXPECTED"), "utf8"));
const three = JSON.parse(fs.readFileSync(env("THREE_EXPECTED"), "utf8"));
const site = env("SITE_URL");
const failures = [];
const check = (ok, message) => { console.log(`${ok ? "ok  " : "FAIL"} ${message}`); if (!ok) failures.push(message); };
const close = (a, b) => Math.abs(a - b) <= 1e-3;

const userDataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "rticket-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, { executablePath: "/usr/bin/chromium", args: CHROMIUM_FLAGS, headless: true });
const page = await context.newPage();
const notFound = [];
page.on("response", (r) => { if (r.status() >= 400) notFound.push(`${r.status()} ${r.url()}`); });
page.on("pageerror", (e) => console.log(`[site page error] ${e.message}`));
try {
  const wasm = await page.request.get(new URL("rticket-web_bg.wasm", site).href);
  check(wasm.headers()["content-type"] === "application/wasm", `the server sends the wasm as application/wasm (${wasm.headers()["content-type"]})`);
  await page.goto(site);
  await page.waitForFunction(() => ["Ready.", "Loading failed."].includes(document.querySelector('[data-testid="status"]')?.textContent), null, { timeout: 600_000 });
  const error = await page.textContent('[data-testid="error"]');
  check(!error, `the site loads from its manifest without error ${error ?? ""}`);
  const choices = await page.locator('[data-testid="ticket-choice"] option').allTextContents();
  check(choices.length === 2 && choices.every((c) => /sparse/.test(c) && /MB/.test(c)), `the chooser offers both tickets with their sparsity and size: ${JSON.stringify(choices)}`);

  await page.fill('[data-testid="input"]', expected.text);
  await page.click('[data-testid="classify"]');
  await page.waitForFunction((t) => document.querySelector('[data-testid="ticket-result"]').dataset.text === t, expected.text, { timeout: 600_000 });
  for (const which of ["ticket", "dense"]) {
    const got = { label: await page.textContent(`[data-testid="${which}-result-label"]`), probability: Number(await page.textContent(`[data-testid="${which}-result-probability"]`)) };
    check(got.label === expected[which].label && close(got.probability, expected[which].probability),
      `site: ${which} says ${got.label} ${got.probability.toFixed(6)}; native ${expected[which].label} ${expected[which].probability.toFixed(6)}`);
  }

  await page.fill('[data-testid="input"]', "a funny film");
  await page.click('[data-testid="attack"]');
  await page.waitForSelector('[data-testid="outcome"]', { timeout: 600_000 });
  const outcome = await page.textContent('[data-testid="outcome"]');
  check(["succeeded", "failed", "skipped"].includes(outcome), `site: the attack ran to the end (${outcome}; ${await page.textContent('[data-testid="queries"]')})`);

  await page.fill('[data-testid="input"]', three.text);
  await page.selectOption('[data-testid="ticket-choice"]', "1");
  await page.waitForFunction((t) => document.querySelector('[data-testid="ticket-result"]').dataset.text === t, three.text, { timeout: 600_000 });
  const got = { label: await page.textContent('[data-testid="ticket-result-label"]'), probability: Number(await page.textContent('[data-testid="ticket-result-probability"]')) };
  check(got.label === three.label && close(got.probability, three.probability),
    `site: switched to the 3-class ticket, which says ${got.label} ${got.probability.toFixed(6)}; native ${three.label} ${three.probability.toFixed(6)}`);
  await page.screenshot({ path: path.join(env("OUT"), "site.png"), fullPage: true });
  check(notFound.length === 0, `site: every request found its file ${JSON.stringify(notFound)}`);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (failures.length) { console.error(`${failures.length} site check(s) failed`); process.exit(1); }
console.log("all site checks passed");
