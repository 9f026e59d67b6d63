//! rticket in the browser: a wasm-bindgen API over the shared model, tickets and attacks.
//!
//! The only crate that knows wasm-bindgen. Everything is built from byte buffers the page
//! fetched (weights, config, tokenizer, ticket, word resources), as in candle's wasm examples;
//! results cross to JavaScript as JSON strings. `web/worker.js` runs a [`Session`] in a Web
//! Worker so the page never freezes.

mod session;
mod ticket_info;

pub use session::{GpuDevice, PendingClassification, Session, webgpu_device};

/// Converts any displayable error into a JavaScript `Error`.
pub(crate) fn js_error(e: impl std::fmt::Display) -> wasm_bindgen::JsError {
    wasm_bindgen::JsError::new(&e.to_string())
}
