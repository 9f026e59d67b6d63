// A static file server for the browser tests and benchmarks: routes map URL prefixes (ending
// in "/") or exact paths to local folders or files, on 127.0.0.1 at a free port. Also the
// Chromium flags every headless run uses.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/** Headless Chromium with WebGPU on SwiftShader possible, and no network chatter. */
export const CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-quic"];

/**
 * Serves `routes` ([[urlPrefixOrPath, localFolderOrFile], ...], first match wins).
 * @returns {Promise<{origin: string, close: () => void}>}
 */
export async function serve(routes) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const route = routes.find(([p]) => url === p || (p.endsWith("/") && url.startsWith(p)));
    if (!route) { res.writeHead(404); res.end("not found"); return; }
    const [prefix, target] = route;
    let file = prefix.endsWith("/") ? path.join(target, url.slice(prefix.length)) : target;
    if (file.endsWith("/")) file += "index.html";
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404); res.end("not found"); return; }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "content-length": st.size });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
