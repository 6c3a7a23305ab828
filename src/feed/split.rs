//! TEMPORARY stand-in until the split lands from its branch.

/// GuardDuty's quota of entries per list file.
pub const MAX_ENTRIES: usize = 250_000;
/// GuardDuty's quota of bytes per list file.
pub const MAX_BYTES: usize = 35 * 1024 * 1024;

/// Cut a rendered list into consecutive parts within the limits.
pub fn split(bytes: &[u8], max_entries: usize, max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let (mut start, mut lines) = (0, 0);
    let mut last_end = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            let end = i + 1;
            if lines == max_entries || end - start > max_bytes {
                parts.push(start..last_end);
                start = last_end;
                lines = 0;
            }
            lines += 1;
            last_end = end;
        }
    }
    parts.push(start..bytes.len());
    parts
}

/// The set names of a list in `parts` parts.
pub fn part_names(name: &str, parts: usize) -> Vec<String> {
    if parts <= 1 {
        vec![name.to_owned()]
    } else {
        (1..=parts).map(|i| format!("{name}-{i}")).collect()
    }
}
