//! Cut a rendered list into parts that GuardDuty accepts, each its own
//! ThreatIntelSet. Pure.
//!
//! A list over GuardDuty's quotas is published as consecutive parts in
//! address order, named by [`part_names`]: `NAME` when it fits in one,
//! `NAME-1` to `NAME-N` otherwise.

use std::ops::Range;

/// GuardDuty's quota of IP addresses and CIDR ranges per threat IP list
/// (Amazon GuardDuty user guide, "Amazon GuardDuty quotas"; it cannot be
/// raised).
pub const MAX_ENTRIES: usize = 250_000;

/// GuardDuty's quota on the size of a list file, 35 MB (the same quotas
/// page), counted in decimal megabytes like
/// [`MAX_LIST_BYTES`](super::guards::MAX_LIST_BYTES): the stricter reading.
/// A rendered line is at most 19 bytes (`255.255.255.255/32` and LF), so
/// [`MAX_ENTRIES`] lines are at most 4,750,000 bytes: with these two
/// quotas the entry count always decides.
pub const MAX_BYTES: usize = 35_000_000;

/// Cut `bytes`, a rendered list (one entry a line, LF, sorted by address as
/// [`IpSet::render`](super::aggregate::IpSet::render) writes it), into the
/// fewest consecutive parts of at most `max_entries` lines and `max_bytes`
/// bytes each, cut only at line ends.
///
/// The parts cover `bytes` exactly, in order: one part when the list fits,
/// and an empty list is one empty part; no other part is empty. Taking as
/// many lines as fit into each part in turn gives the fewest parts. A last
/// line without its LF counts as a line. A line longer than `max_bytes`
/// cannot fit anywhere and gets a part of its own (a rendered line is at
/// most 19 bytes); `max_entries` 0 is read as 1.
pub fn split(bytes: &[u8], max_entries: usize, max_bytes: usize) -> Vec<Range<usize>> {
    let max_entries = max_entries.max(1);
    let mut parts = Vec::new();
    let (mut start, mut lines, mut pos) = (0, 0, 0);
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i + 1);
        if lines > 0 && (lines == max_entries || end - start > max_bytes) {
            parts.push(start..pos);
            start = pos;
            lines = 0;
        }
        lines += 1;
        pos = end;
    }
    parts.push(start..bytes.len());
    parts
}

/// The names of a list's parts: `[name]` for one part (or none), else
/// `name-1` to `name-N`.
pub fn part_names(name: &str, parts: usize) -> Vec<String> {
    if parts <= 1 {
        vec![name.to_owned()]
    } else {
        (1..=parts).map(|i| format!("{name}-{i}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    fn cut(text: &str, max_entries: usize, max_bytes: usize) -> Vec<&str> {
        split(text.as_bytes(), max_entries, max_bytes)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test_case("", 1, 1, &[""] ; "empty is one empty part")]
    #[test_case("1.1.1.1\n", 1, 8, &["1.1.1.1\n"] ; "one line that fits exactly")]
    #[test_case("1.1.1.1\n2.2.2.2\n", 2, 100, &["1.1.1.1\n2.2.2.2\n"] ; "fits: one part")]
    #[test_case("a\nb\nc\n", 2, 100, &["a\nb\n", "c\n"] ; "by entries")]
    #[test_case("a\nbb\nc\nd\n", 10, 5, &["a\nbb\n", "c\nd\n"] ; "by bytes")]
    #[test_case("a\nb\nc", 2, 100, &["a\nb\n", "c"] ; "a last line without LF")]
    #[test_case("a\nbbbb\nc\n", 10, 3, &["a\n", "bbbb\n", "c\n"] ; "a line too long for any part stands alone")]
    #[test_case("a\nb\n", 0, 100, &["a\n", "b\n"] ; "zero entries reads as one")]
    fn cuts(text: &str, max_entries: usize, max_bytes: usize, want: &[&str]) {
        assert_eq!(cut(text, max_entries, max_bytes), want);
    }

    #[test_case(0, &["L"] ; "none")]
    #[test_case(1, &["L"] ; "one part keeps the name")]
    #[test_case(3, &["L-1", "L-2", "L-3"] ; "three")]
    fn names(parts: usize, want: &[&str]) {
        assert_eq!(part_names("L", parts), want);
    }

    #[test]
    fn the_byte_quota_is_the_one_the_downloads_are_capped_at() {
        assert_eq!(
            u64::try_from(MAX_BYTES).ok(),
            Some(super::super::guards::MAX_LIST_BYTES)
        );
    }

    /// A rendered list of 500,001 separate addresses: two full parts and one
    /// of a single line, in address order.
    #[test]
    fn a_real_list_over_the_quota() {
        let set = super::super::aggregate::IpSet::from_ranges(
            (0..500_001u32)
                .map(|i| {
                    let a = 0x0100_0000 + i * 2;
                    super::super::aggregate::Range::new(a, a).expect("range")
                })
                .collect(),
        );
        let bytes = set.render();
        let parts = split(&bytes, MAX_ENTRIES, MAX_BYTES);
        let lines = |r: &Range<usize>| bytes[r.clone()].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(
            parts.iter().map(lines).collect::<Vec<_>>(),
            [250_000, 250_000, 1]
        );
        assert_eq!(&bytes[parts[2].clone()], b"1.15.66.64\n");
        assert_eq!(
            part_names("FireHOL-Level1", parts.len()),
            ["FireHOL-Level1-1", "FireHOL-Level1-2", "FireHOL-Level1-3"]
        );
    }

    /// Line sizes (LF included) of `bytes`; a last line without LF counts.
    fn line_sizes(bytes: &[u8]) -> Vec<usize> {
        bytes
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::len)
            .collect()
    }

    /// The fewest parts, by trying every cut (dynamic programming).
    fn fewest(sizes: &[usize], max_entries: usize, max_bytes: usize) -> usize {
        let mut best = vec![usize::MAX; sizes.len() + 1];
        best[0] = 0;
        for j in 1..=sizes.len() {
            for i in j.saturating_sub(max_entries)..j {
                if best[i] != usize::MAX && sizes[i..j].iter().sum::<usize>() <= max_bytes {
                    best[j] = best[j].min(best[i] + 1);
                }
            }
        }
        best[sizes.len()]
    }

    /// Parts when only the byte quota counts (greedy).
    fn parts_for_bytes(sizes: &[usize], max_bytes: usize) -> usize {
        let (mut parts, mut used) = (0, 0);
        for &s in sizes {
            if used == 0 || used + s > max_bytes {
                parts += 1;
                used = 0;
            }
            used += s;
        }
        parts
    }

    /// A list: lines of 1-12 bytes besides their LF, the last LF optional.
    fn arb_list() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(
                prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 1..12),
                0..60,
            ),
            any::<bool>(),
        )
            .prop_map(|(lines, last_lf)| {
                let mut out = Vec::new();
                for l in &lines {
                    out.extend_from_slice(l);
                    out.push(b'\n');
                }
                if !last_lf && !out.is_empty() {
                    out.pop();
                }
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parts_are_the_list_within_the_quotas_and_fewest(
            bytes in arb_list(),
            max_entries in 1usize..10,
            extra_bytes in 0usize..40,
        ) {
            let sizes = line_sizes(&bytes);
            // Every line must fit in a part for the quotas to be met.
            let max_bytes = sizes.iter().copied().max().unwrap_or(1) + extra_bytes;
            let parts = split(&bytes, max_entries, max_bytes);

            // Consecutive, from 0 to the end: their concatenation is the input.
            prop_assert_eq!(parts.first().map(|r| r.start), Some(0));
            prop_assert_eq!(parts.last().map(|r| r.end), Some(bytes.len()));
            for w in parts.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start);
            }
            let joined: Vec<u8> = parts.iter().flat_map(|r| bytes[r.clone()].to_vec()).collect();
            prop_assert_eq!(&joined, &bytes);

            for r in &parts {
                let part = &bytes[r.clone()];
                // Non-empty unless the list is; cut at line ends only.
                prop_assert!(!part.is_empty() || bytes.is_empty());
                prop_assert!(r.end == bytes.len() || part.last() == Some(&b'\n'));
                prop_assert!(line_sizes(part).len() <= max_entries);
                prop_assert!(part.len() <= max_bytes);
            }

            // Fewest: no cut does better; at least what each quota alone needs.
            let lines = sizes.len();
            prop_assert_eq!(parts.len(), fewest(&sizes, max_entries, max_bytes).max(1));
            let lower = lines.div_ceil(max_entries).max(parts_for_bytes(&sizes, max_bytes));
            prop_assert!(parts.len() >= lower.max(1));
            // When lines are all the same size (a quota of lines in
            // disguise), that bound is exact.
            if sizes.windows(2).all(|w| w[0] == w[1]) {
                prop_assert_eq!(parts.len(), lower.max(1));
            }
        }
    }
}
