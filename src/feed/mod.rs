//! FireHOL feeds in, one aggregated IPv4 list out.
//!
//! Placeholder until the list-builder issue lands.

/// Why a list could not be built or merged.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// An input file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl FeedError {
    /// Whether this error is the user's input (exit 2) rather than an abort (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, FeedError::Read { .. })
    }
}
