//! The ticket file: a safetensors file holding a bit-packed mask per gated matrix, the
//! classifier head, and (for retrained tickets) the surviving weight values. See TICKET.md at
//! the repository root for the specification.

mod bits;
mod entropy;
mod error;
mod format;

pub use bits::{pack_bits, popcount, unpack_bits};
pub use error::TicketError;
pub use format::{FORMAT_NAME, FORMAT_VERSION, MaskEncoding, Ticket, TicketMeta, ValueDtype};
