//! Everything that can be wrong with a ticket file.

/// A ticket that cannot be read or does not fit the model it is applied to.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("not a readable ticket: {0} (the file is corrupt or truncated; export it again)")]
    Corrupt(String),
    #[error("this file is not an rticket ticket (its `format` metadata is {found:?})")]
    NotATicket { found: Option<String> },
    #[error("ticket format version {found} is not supported (this build reads version {supported}); update rticket")]
    UnsupportedVersion { found: String, supported: &'static str },
    #[error("ticket metadata `{key}` is missing or invalid: {reason}")]
    BadMetadata { key: &'static str, reason: String },
    #[error("ticket tensor `{name}`: {reason}")]
    BadTensor { name: String, reason: String },
    #[error(
        "this ticket was drawn from base model {expected_name} (weights sha256 {expected}), but the loaded weights \
         have sha256 {found}: load the base model the ticket names"
    )]
    WrongBaseModel { expected_name: String, expected: String, found: String },
    #[error("the ticket's gated matrices do not match the model: {0}")]
    ModelMismatch(String),
    #[error(transparent)]
    Model(#[from] crate::Error),
}
