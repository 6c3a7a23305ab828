//! The keys of the list objects, `<prefix>lists/<sha256>.txt`. Pure; a leaf
//! that the publishing code and the bucket policy both read.

/// The folder of the list objects, `<prefix>lists/`: the only keys the
/// bucket policy lets the organization read.
pub fn lists_prefix(prefix: &str) -> String {
    format!("{prefix}{LISTS}")
}

const LISTS: &str = "lists/";

/// The list object's key: `<prefix>lists/<sha256>.txt`.
pub fn object_key(prefix: &str, sha256: &str) -> String {
    format!("{prefix}{LISTS}{sha256}.txt")
}

/// Where an older guardsync put the list object, `<prefix><sha256>.txt`,
/// directly under the prefix: a manifest naming it is still read, and the
/// next apply publishes the list again under `lists/` and moves the sets.
pub(crate) fn legacy_object_key(prefix: &str, sha256: &str) -> String {
    format!("{prefix}{sha256}.txt")
}
