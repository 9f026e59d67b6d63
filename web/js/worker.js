// rticket's Web Worker: owns the wasm Session so the page never freezes. Fetches every file
// through the Cache API (a second visit loads from the cache), reports download progress, and
// answers the client's requests (see rticket.js for the protocol).
import init, { Session, webgpu_device } from "../rticket-web.js";

const CACHE = "rticket-v1";
let session = null;

// `limit`: the bytes the file may have (a ticket's cap, rticket.js TICKET_LIMITS), checked on the
// stated length before anything is cached and again while reading.
async function fetchBytes(url, what, id, limit = Infinity) {
  const tooLarge = (bytes) => new Error(`${what} at ${url} has ${bytes.toLocaleString("en-US")} bytes or more, over the `
    + `${limit.toLocaleString("en-US")} bytes it may have: refused (load({ maxTicketBytes }) raises the cap)`);
  const cache = "caches" in self ? await caches.open(CACHE) : null;
  let response = cache ? await cache.match(url) : undefined;
  const cached = response !== undefined;
  if (!response) {
    response = await fetch(url);
    if (!response.ok) throw new Error(`cannot fetch ${what} from ${url}: HTTP ${response.status}`);
    const stated = Number(response.headers.get("content-length"));
    if (stated > limit) throw tooLarge(stated);
    // A capped file is cached once read within its cap (below), not before.
    if (cache && limit === Infinity) await cache.put(url, response.clone());
  }
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (loaded > limit) {
      await reader.cancel();
      throw tooLarge(loaded);
    }
    postMessage({ type: "progress", id, what, loaded, total, cached });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) { bytes.set(c, offset); offset += c.length; }
  if (cache && !cached && limit !== Infinity) await cache.put(url, new Response(bytes, { headers: { "content-length": String(loaded) } }));
  return bytes;
}

// The name of the WebGPU adapter when it is a software rasteriser (SwiftShader, llvmpipe), else
// null: like the native trainer, "auto" never picks one, being far slower than the CPU backend.
async function softwareAdapter() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ");
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter;
  return fallback || /swiftshader|llvmpipe|lavapipe|software/i.test(name) ? name || "fallback adapter" : null;
}

const handlers = {
  async load({ urls, webgpu, maxTicketBytes }, id) {
    await init();
    const get = (key, what) => fetchBytes(urls[key], what, id);
    const [config, weights, tokenizer] = await Promise.all([
      get("config", "config.json"), get("weights", "model weights"), get("tokenizer", "tokenizer.json")]);
    session = new Session(config, weights, tokenizer);
    // Classification and the attacked models on WebGPU when the page has it (and it sets up);
    // the attacks' similarity encoder stays on the CPU backend.
    let backend = "CPU (wasm32, burn flex backend)";
    const software = webgpu === "auto" ? await softwareAdapter() : null;
    if (software) {
      backend += ` (the WebGPU adapter is software, ${software}, slower than this backend; ?webgpu=force uses it)`;
    } else if (webgpu) {
      try {
        session.use_gpu(await webgpu_device());
        backend = "WebGPU (burn wgpu backend) for classification and the attacked models; similarity encoder on the CPU backend";
      } catch (e) {
        backend += ` (WebGPU failed to set up: ${e?.message ?? e})`;
      }
    }
    let ticket = null;
    if (urls.dense) session.load_dense(await get("dense", "dense classifier"));
    if (urls.ticket) ticket = JSON.parse(session.load_ticket(await fetchBytes(urls.ticket, "the ticket", id, maxTicketBytes)));
    if (urls.neighbours) session.load_neighbours(await get("neighbours", "neighbour table"));
    if (urls.wordnet) {
      const files = ["noun", "verb", "adj", "adv"].flatMap((p) => [`data.${p}`, `${p}.exc`]);
      const wn = await Promise.all(files.map((f) => fetchBytes(`${urls.wordnet}/${f}`, `WordNet ${f}`, id)));
      session.load_wordnet(...wn);
    }
    return { ticket, weights_sha256: session.weights_sha256, backend, classifyBackend: session.classify_backend };
  },
  async ticketBytes({ bytes }) {
    return JSON.parse(session.load_ticket(new Uint8Array(bytes)));
  },
  async classify({ text }) {
    return JSON.parse(await session.classify(text).finish());
  },
  async attack({ text, recipe, target, seed }, id) {
    const onEvent = (json) => postMessage({ type: "event", id, event: JSON.parse(json) });
    return JSON.parse(await session.attack(text, recipe, target, seed ?? 0, onEvent));
  },
};

onmessage = async ({ data }) => {
  const { id, op } = data;
  try {
    if (op !== "load" && !session) throw new Error("nothing is loaded yet");
    const result = await handlers[op](data, id);
    postMessage({ type: "done", id, result });
  } catch (e) {
    postMessage({ type: "error", id, message: e?.message ?? String(e) });
  }
};
