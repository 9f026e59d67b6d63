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
 * What a ticket may cost the tab, tickets from strangers included (a dropped file, a URL): its size,
 * checked before a byte is read, and the time it may take to load, after which the worker is
 * stopped and started again with the ticket it had. MiniLM's tickets are 1-45 MB and load in
 * about a second. `load`'s `maxTicketBytes` and `ticketSeconds` change them.
 */
export const TICKET_LIMITS = Object.freeze({ maxBytes: 200_000_000, seconds: 60 });

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
 * @param {number} [options.maxTicketBytes] refuse larger tickets (default TICKET_LIMITS.maxBytes)
 * @param {number} [options.ticketSeconds] stop a ticket that takes longer to load (default TICKET_LIMITS.seconds)
 * @param {(p: {what: string, loaded: number, total: number, cached: boolean}) => void} [options.onProgress]
 */
export async function load(options) {
  const client = new Client(options);
  await client.start();
  return client;
}

class Client {
  constructor(options) {
    const base = options.base.endsWith("/") ? options.base : options.base + "/";
    const abs = (u) => (u ? new URL(u, document.baseURI).href : undefined);
    this.urls = {
      config: abs(base + "config.json"), weights: abs(base + "model.safetensors"), tokenizer: abs(base + "tokenizer.json"),
      ticket: abs(options.ticket), dense: abs(options.dense), neighbours: abs(options.neighbours), wordnet: abs(options.wordnet),
    };
    const mode = (options.webgpu ?? "auto") === "auto" ? "auto" : options.webgpu === true;
    this.mode = "gpu" in navigator ? mode : false; // as the page sees it
    this.limits = { maxBytes: options.maxTicketBytes ?? TICKET_LIMITS.maxBytes, seconds: options.ticketSeconds ?? TICKET_LIMITS.seconds };
    this.onProgress = options.onProgress;
    this.webgpu = "gpu" in navigator;
    // The bytes of a ticket loaded from a file, to load again when the worker restarts.
    this.ticketBytes = null;
  }

  /** (Re)starts the worker and loads every file (from the Cache API after the first visit). */
  async start() {
    this.worker?.terminate();
    for (const p of this.pending?.values() ?? []) p.reject(new Error("the model was restarted"));
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.pending = new Map();
    this.next = 1;
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return;
      if (data.type === "progress") this.onProgress?.(data);
      else if (data.type === "event") p.onEvent?.(data.event);
      else {
        this.pending.delete(data.id);
        data.type === "done" ? p.resolve(data.result) : p.reject(new Error(data.message));
      }
    };
    const urls = this.ticketBytes ? { ...this.urls, ticket: undefined } : this.urls;
    const loaded = await this.request("load", { urls, webgpu: this.mode, maxTicketBytes: this.limits.maxBytes });
    Object.assign(this, loaded);
    if (this.ticketBytes) this.ticket = await this.request("ticketBytes", { bytes: this.ticketBytes });
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

  /**
   * Replaces the ticket with a local file's (a File, Blob or ArrayBuffer); returns the ticket
   * panel's data. A ticket over the size limit is refused unread; one that does not load within
   * the time limit is stopped, and the model comes back with the ticket it had.
   */
  async loadTicket(source) {
    const size = source.size ?? source.byteLength;
    const { maxBytes, seconds } = this.limits;
    if (size > maxBytes) {
      const bytes = (n) => `${n.toLocaleString("en-US")} bytes`;
      throw new Error(`${bytes(size)} is over the ${bytes(maxBytes)} a ticket may have (MiniLM's are 1-45 MB): `
        + `refused unread; a site serving larger models raises load({ maxTicketBytes })`);
    }
    const bytes = source instanceof Blob ? await source.arrayBuffer() : source;
    let timer;
    const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("late")), 1000 * seconds); });
    try {
      const ticket = await Promise.race([this.request("ticketBytes", { bytes }), late]);
      [this.ticket, this.ticketBytes] = [ticket, bytes];
      return ticket;
    } catch (e) {
      if (e.message !== "late") throw e;
      await this.start();
      throw new Error(`did not load within ${seconds} s: stopped, and the model restarted with the ticket it had`);
    } finally {
      clearTimeout(timer);
    }
  }
}
