// rticket in any static site: one ES module, no server code.
//
//   import { load } from "./js/rticket.js";
//   const rt = await load({ base: "models/minilm/", ticket: "tickets/mr.safetensors" });
//   const { ticket } = await rt.classify("a gripping , moving film");   // label + probabilities
//   const result = await rt.attack("a gripping , moving film", { recipe: "text-fooler" });
//
// The model runs in a Web Worker (js/worker.js next to this file, rticket-web.js and
// rticket-web_bg.wasm one folder up: the layout `trunk build --release` writes to dist/).

/**
 * Starts the worker and loads the files.
 * @param {object} options
 * @param {string} options.base folder URL of the base model (config.json, model.safetensors, tokenizer.json)
 * @param {string} [options.ticket] URL of a ticket (.safetensors)
 * @param {string} [options.dense] URL of a dense fine-tuned classifier.safetensors, to compare with
 * @param {string} [options.neighbours] URL of the attacks' neighbour table (needed by attacks)
 * @param {string} [options.wordnet] folder URL with WordNet's data.{noun,verb,adj,adv} and {noun,verb,adj,adv}.exc (needed by attacks)
 * @param {"auto"|boolean} [options.webgpu] where to classify: "auto" (default) uses WebGPU when this page has it on a
 *   hardware adapter (a software one such as SwiftShader is far slower than the CPU backend), true uses any WebGPU
 *   adapter, false the CPU backend
 * @param {(p: {what: string, loaded: number, total: number, cached: boolean}) => void} [options.onProgress]
 */
export async function load(options) {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  const client = new Client(worker, options.onProgress);
  const base = options.base.endsWith("/") ? options.base : options.base + "/";
  const abs = (u) => (u ? new URL(u, document.baseURI).href : undefined);
  const urls = {
    config: abs(base + "config.json"), weights: abs(base + "model.safetensors"), tokenizer: abs(base + "tokenizer.json"),
    ticket: abs(options.ticket), dense: abs(options.dense), neighbours: abs(options.neighbours), wordnet: abs(options.wordnet),
  };
  const mode = (options.webgpu ?? "auto") === "auto" ? "auto" : options.webgpu === true;
  const webgpu = "gpu" in navigator ? mode : false; // as the page sees it
  const loaded = await client.request("load", { urls, webgpu });
  Object.assign(client, loaded);
  client.webgpu = "gpu" in navigator;
  return client;
}

class Client {
  constructor(worker, onProgress) {
    this.worker = worker;
    this.pending = new Map();
    this.next = 1;
    worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return;
      if (data.type === "progress") onProgress?.(data);
      else if (data.type === "event") p.onEvent?.(data.event);
      else {
        this.pending.delete(data.id);
        data.type === "done" ? p.resolve(data.result) : p.reject(new Error(data.message));
      }
    };
  }

  request(op, fields = {}, onEvent) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ id, op, ...fields });
    });
  }

  /** Label and probabilities of the dense model and the ticket (null where not loaded). */
  classify(text) {
    return this.request("classify", { text });
  }

  /** Runs a word-substitution attack; `onEvent` sees each ranked/trying/kept step. */
  attack(text, { recipe = "text-fooler", target = "ticket", seed = 0, onEvent } = {}) {
    return this.request("attack", { text, recipe, target, seed }, onEvent);
  }

  /** Replaces the ticket with a local file's bytes; returns the ticket panel's data. */
  async loadTicket(arrayBuffer) {
    this.ticket = await this.request("ticketBytes", { bytes: arrayBuffer });
    return this.ticket;
  }
}
