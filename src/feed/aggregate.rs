//! Interval algebra on IPv4 address ranges, the optimal CIDR split, and the
//! iprange-identical rendering of a set. Pure: no I/O.
//!
//! Addresses are `u32`; a [`Range`] is inclusive at both ends so that
//! `0.0.0.0/0` (`0..=u32::MAX`) is representable. Every `+ 1` on an end is
//! done in `u64`, which is what keeps a range ending at 255.255.255.255 from
//! wrapping around to 0.0.0.0 (iprange 1.0.4 gets this wrong: see
//! `docs/BENCHMARKS.md`).

use std::net::Ipv4Addr;

/// An inclusive range of IPv4 addresses, `lo <= hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    /// First address.
    pub lo: u32,
    /// Last address (inclusive).
    pub hi: u32,
}

impl Range {
    /// The range `lo..=hi`, or `None` when `lo > hi`.
    pub fn new(lo: u32, hi: u32) -> Option<Self> {
        (lo <= hi).then_some(Range { lo, hi })
    }

    /// The addresses of a CIDR block; host bits of `addr` are ignored.
    pub fn from_cidr(addr: u32, len: u8) -> Self {
        let mask = prefix_mask(len);
        let lo = addr & mask;
        Range { lo, hi: lo | !mask }
    }

    /// How many addresses the range holds (1 to 2^32).
    pub fn addresses(&self) -> u64 {
        u64::from(self.hi) - u64::from(self.lo) + 1
    }
}

/// The netmask of a prefix length (`len` above 32 is treated as 32).
pub(crate) fn prefix_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l if l >= 32 => u32::MAX,
        l => u32::MAX << (32 - u32::from(l)),
    }
}

/// One CIDR block: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    /// The network address (no host bits set).
    pub addr: u32,
    /// The prefix length, 0 to 32.
    pub len: u8,
}

impl std::fmt::Display for Cidr {
    /// iprange's format: a bare address for a /32, `a.b.c.d/len` otherwise.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.len == 32 {
            write!(f, "{}", Ipv4Addr::from(self.addr))
        } else {
            write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.len)
        }
    }
}

/// A set of IPv4 addresses held as sorted, disjoint, non-adjacent ranges.
///
/// The invariant makes the representation canonical: two sets hold the same
/// addresses exactly when their ranges are equal, so the rendered bytes (and
/// their sha256) depend only on the addresses, never on the input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpSet {
    ranges: Vec<Range>,
}

impl IpSet {
    /// The empty set.
    pub fn new() -> Self {
        IpSet::default()
    }

    /// The set covering every range given, in any order, overlapping or not.
    pub fn from_ranges(mut ranges: Vec<Range>) -> Self {
        sort_ranges(&mut ranges);
        let mut kept = 0usize;
        for i in 0..ranges.len() {
            let r = ranges[i];
            if kept > 0 && u64::from(r.lo) <= u64::from(ranges[kept - 1].hi) + 1 {
                let last = &mut ranges[kept - 1];
                last.hi = last.hi.max(r.hi);
            } else {
                ranges[kept] = r;
                kept += 1;
            }
        }
        ranges.truncate(kept);
        ranges.shrink_to_fit();
        IpSet { ranges }
    }

    /// The union of several sets: their ranges are sorted runs, which a
    /// stable (run-detecting) merge sort joins in close to linear time.
    pub(crate) fn union_all(sets: &[IpSet]) -> Self {
        let mut all = Vec::with_capacity(sets.iter().map(|s| s.ranges.len()).sum());
        for s in sets {
            all.extend_from_slice(&s.ranges);
        }
        all.sort_by_key(|r| (u64::from(r.lo) << 32) | u64::from(r.hi));
        IpSet::from_ranges(all)
    }

    /// The sorted, disjoint, non-adjacent ranges of the set.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// Whether the set holds no address.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many addresses the set holds (up to 2^32).
    pub fn addresses(&self) -> u64 {
        self.ranges.iter().map(Range::addresses).sum()
    }

    /// Whether `addr` is in the set.
    pub fn contains(&self, addr: u32) -> bool {
        let i = self.ranges.partition_point(|r| r.hi < addr);
        self.ranges.get(i).is_some_and(|r| r.lo <= addr)
    }

    /// Every address in `self` that is not in `other`; one linear pass.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        let mut out = Vec::with_capacity(self.ranges.len());
        let mut from = 0usize;
        for r in &self.ranges {
            subtract(*r, &other.ranges, &mut from, |piece| out.push(piece));
        }
        IpSet { ranges: out }
    }

    /// The set of already canonical ranges (sorted, disjoint, non-adjacent).
    #[cfg(test)]
    pub(crate) fn from_canonical(ranges: Vec<Range>) -> Self {
        debug_assert!(
            ranges
                .windows(2)
                .all(|w| u64::from(w[0].hi) + 1 < u64::from(w[1].lo))
        );
        IpSet { ranges }
    }

    /// The optimal CIDR split of the set, in address order.
    pub fn cidrs(&self) -> impl Iterator<Item = Cidr> + '_ {
        self.ranges.iter().flat_map(|r| split(*r))
    }

    /// How many CIDR blocks the optimal split has (the list's entry count).
    pub fn cidr_count(&self) -> u64 {
        self.ranges.iter().map(|r| split(*r).count() as u64).sum()
    }

    /// The list bytes, exactly as iprange prints the same set.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ranges.len() * 16);
        self.render_into(&mut out);
        out
    }

    /// Append the list bytes to `out`: one CIDR a line, LF, a final newline.
    pub(crate) fn render_into(&self, out: &mut Vec<u8>) {
        for r in &self.ranges {
            push_range(out, *r);
        }
    }
}

/// Sort ranges by (lo, hi). A packed `u64` key sorts about twice as fast as
/// the derived two-field comparison, which matters at a million entries.
fn sort_ranges(ranges: &mut [Range]) {
    let sorted = ranges.windows(2).all(|w| w[0] <= w[1]);
    if !sorted {
        ranges.sort_unstable_by_key(|r| (u64::from(r.lo) << 32) | u64::from(r.hi));
    }
}

/// The minimal CIDR blocks covering exactly one range, in address order.
pub fn split(range: Range) -> impl Iterator<Item = Cidr> {
    let mut lo = u64::from(range.lo);
    let hi = u64::from(range.hi);
    std::iter::from_fn(move || {
        if lo > hi {
            return None;
        }
        // The largest block that starts at `lo` (alignment) and fits in what
        // is left of the range: greedy is optimal for CIDR covers.
        let align = if lo == 0 {
            32
        } else {
            lo.trailing_zeros().min(32)
        };
        let fit = 63 - (hi - lo + 1).leading_zeros();
        let bits = align.min(fit);
        let cidr = Cidr {
            addr: lo as u32,
            len: (32 - bits) as u8,
        };
        lo += 1u64 << bits;
        Some(cidr)
    })
}

/// Append the lines of one range's optimal CIDR split to `out`.
#[inline]
pub(crate) fn push_range(out: &mut Vec<u8>, range: Range) {
    for c in split(range) {
        push_cidr(out, c);
    }
}

/// Each octet in decimal followed by a dot, little-endian in a `u32` (the
/// unused high bytes are zero), and how many of its bytes are used.
const DOTTED: [(u32, u8); 256] = {
    let mut t = [(0u32, 0u8); 256];
    let mut v = 0usize;
    while v < 256 {
        let b = v as u8;
        t[v] = if b >= 100 {
            (
                u32::from_le_bytes([b'0' + b / 100, b'0' + b / 10 % 10, b'0' + b % 10, b'.']),
                4,
            )
        } else if b >= 10 {
            (
                u32::from_le_bytes([b'0' + b / 10, b'0' + b % 10, b'.', 0]),
                3,
            )
        } else {
            (u32::from_le_bytes([b'0' + b, b'.', 0, 0]), 2)
        };
        v += 1;
    }
    t
};

/// What follows the address for each prefix length: `\n` for a /32,
/// `/len\n` otherwise (iprange's format), little-endian, and its length.
const SUFFIX: [(u32, u8); 33] = {
    let mut t = [(0u32, 0u8); 33];
    let mut l = 0usize;
    while l <= 32 {
        let b = l as u8;
        t[l] = if l == 32 {
            (b'\n' as u32, 1)
        } else if l >= 10 {
            (
                u32::from_le_bytes([b'/', b'0' + b / 10, b'0' + b % 10, b'\n']),
                4,
            )
        } else {
            (u32::from_le_bytes([b'/', b'0' + b, b'\n', 0]), 3)
        };
        l += 1;
    }
    t
};

/// One line of the list, assembled in registers and appended as a fixed
/// 20 bytes, then cut to its length: no byte-by-byte pushes, no `memcpy`
/// of a variable length, no store read back.
#[inline]
fn push_cidr(out: &mut Vec<u8>, c: Cidr) {
    let mut addr = 0u128;
    let mut n = 0u32;
    for octet in c.addr.to_be_bytes() {
        let (text, len) = DOTTED[usize::from(octet)];
        addr |= u128::from(text) << (n * 8);
        n += u32::from(len);
    }
    // Byte `at` is the dot after the last octet (6 to 15): the suffix
    // replaces it, and its last bytes may not fit in the first 16.
    let at = n - 1;
    let (suffix, suffix_len) = SUFFIX[usize::from(c.len.min(32))];
    let low = (addr & ((1u128 << (at * 8)) - 1)) | (u128::from(suffix) << (at * 8));
    let high = suffix.checked_shr((16 - at) * 8).unwrap_or(0);
    let len = out.len();
    out.extend_from_slice(&low.to_le_bytes());
    out.extend_from_slice(&high.to_le_bytes());
    out.truncate(len + at as usize + usize::from(suffix_len));
}

/// A range packed into one `u64`, `lo << 32 | hi`.
#[inline]
pub(crate) fn pack(r: Range) -> u64 {
    (u64::from(r.lo) << 32) | u64::from(r.hi)
}

/// The range of a [`pack`]ed `u64`.
#[inline]
pub(crate) fn unpack(key: u64) -> Range {
    Range {
        lo: (key >> 32) as u32,
        hi: key as u32,
    }
}

/// Sort single addresses and drop the repeated ones, in place.
pub(crate) fn aggregate_singles(addrs: &mut Vec<u32>) {
    addrs.sort_unstable();
    addrs.dedup();
}

/// Sort packed ranges by their first address and merge the overlapping and
/// adjacent ones, in place: `keys` becomes sorted, disjoint, non-adjacent.
pub(crate) fn aggregate_packed(keys: &mut Vec<u64>) {
    keys.sort_unstable();
    let mut kept = 0usize;
    for i in 0..keys.len() {
        let r = unpack(keys[i]);
        if kept > 0 {
            let last = unpack(keys[kept - 1]);
            if u64::from(r.lo) <= u64::from(last.hi) + 1 {
                keys[kept - 1] = pack(Range {
                    lo: last.lo,
                    hi: last.hi.max(r.hi),
                });
                continue;
            }
        }
        keys[kept] = keys[i];
        kept += 1;
    }
    keys.truncate(kept);
}

/// A sorted run of one thread's ranges: single addresses, or packed ranges
/// (see [`aggregate_packed`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Run<'a> {
    /// Sorted single addresses.
    Singles(&'a [u32]),
    /// Sorted, disjoint packed ranges.
    Packed(&'a [u64]),
}

impl<'a> Run<'a> {
    fn len(&self) -> usize {
        match self {
            Run::Singles(s) => s.len(),
            Run::Packed(p) => p.len(),
        }
    }

    /// The `i`th range, packed.
    #[inline]
    fn key(&self, i: usize) -> Option<u64> {
        match self {
            Run::Singles(s) => s.get(i).map(|&a| (u64::from(a) << 32) | u64::from(a)),
            Run::Packed(p) => p.get(i).copied(),
        }
    }

    /// Where the ranges starting at `at` or later begin, and the last
    /// address of the ranges before (`None` if there are none).
    fn split_at(&self, at: u64) -> (usize, Option<u32>) {
        let (i, last) = match self {
            Run::Singles(s) => {
                let i = s.partition_point(|&a| u64::from(a) < at);
                (i, i.checked_sub(1).map(|j| s[j]))
            }
            Run::Packed(p) => {
                let i = p.partition_point(|&k| k >> 32 < at);
                (i, i.checked_sub(1).map(|j| unpack(p[j]).hi))
            }
        };
        (i, last)
    }

    /// The items from `from` to `to` (indices).
    fn slice(&self, from: usize, to: usize) -> Run<'a> {
        match self {
            Run::Singles(s) => Run::Singles(&s[from..to]),
            Run::Packed(p) => Run::Packed(&p[from..to]),
        }
    }
}

/// Up to `pieces` address boundaries that cut `runs` into parts of about the
/// same number of items, none inside a range of the union nor between two
/// adjacent ones: each part's union can be rendered on its own and the parts
/// joined, byte for byte the rendering of the whole. Returns the parts, in
/// address order, as runs.
pub(crate) fn cut_runs<'a>(runs: &[Run<'a>], pieces: usize) -> Vec<Vec<Run<'a>>> {
    let Some(biggest) = runs.iter().max_by_key(|r| r.len()) else {
        return Vec::new();
    };
    let mut cuts: Vec<Vec<usize>> = vec![vec![0; runs.len()]];
    let mut floor = 0u64;
    for p in 1..pieces.max(1) {
        let Some(k) = biggest.key(biggest.len() * p / pieces) else {
            break;
        };
        let mut at = (k >> 32).max(floor + 1);
        // Move the cut up until no range before it reaches `at - 1`.
        let clean = loop {
            if at > u64::from(u32::MAX) {
                break None;
            }
            let split: Vec<(usize, Option<u32>)> = runs.iter().map(|r| r.split_at(at)).collect();
            let reach = split.iter().filter_map(|&(_, last)| last).max();
            match reach {
                Some(hi) if u64::from(hi) + 1 >= at => at = u64::from(hi) + 2,
                _ => break Some(split.into_iter().map(|(i, _)| i).collect::<Vec<_>>()),
            }
        };
        let Some(idx) = clean else { break };
        floor = at;
        if cuts.last() != Some(&idx) {
            cuts.push(idx);
        }
    }
    cuts.push(runs.iter().map(Run::len).collect());
    cuts.windows(2)
        .map(|w| {
            runs.iter()
                .enumerate()
                .map(|(r, run)| run.slice(w[0][r], w[1][r]))
                .filter(|run| run.len() > 0)
                .collect()
        })
        .filter(|part: &Vec<Run<'a>>| !part.is_empty())
        .collect()
}

/// The union of sorted runs, in address order, overlapping and adjacent
/// ranges merged: the canonical ranges of the union, one at a time.
pub(crate) fn union_runs(runs: &[Run<'_>], mut emit: impl FnMut(Range)) {
    let mut next = vec![0usize; runs.len()];
    let mut heads: Vec<Option<u64>> = runs.iter().map(|r| r.key(0)).collect();
    // The range being grown, `hi` in u64 so that `hi + 1` cannot wrap.
    let mut pending: Option<(u32, u64)> = None;
    loop {
        let mut best: Option<(usize, u64)> = None;
        for (i, h) in heads.iter().enumerate() {
            if let Some(k) = *h
                && best.is_none_or(|(_, b)| k < b)
            {
                best = Some((i, k));
            }
        }
        let Some((i, k)) = best else { break };
        next[i] += 1;
        heads[i] = runs[i].key(next[i]);
        let r = unpack(k);
        match &mut pending {
            Some((_, hi)) if u64::from(r.lo) <= *hi + 1 => *hi = (*hi).max(u64::from(r.hi)),
            _ => {
                if let Some((lo, hi)) = pending {
                    emit(Range { lo, hi: hi as u32 });
                }
                pending = Some((r.lo, u64::from(r.hi)));
            }
        }
    }
    if let Some((lo, hi)) = pending {
        emit(Range { lo, hi: hi as u32 });
    }
}

/// The parts of `r` outside `cut`, in order, given to `emit`. `cut` is
/// sorted and disjoint; `from` is where to start looking in it and moves
/// forward, so that cutting ranges given in address order is one linear pass.
pub(crate) fn subtract(r: Range, cut: &[Range], from: &mut usize, mut emit: impl FnMut(Range)) {
    // `lo` is the first address of `r` not yet known to be removed; u64 so
    // that it can step past 255.255.255.255.
    let mut lo = u64::from(r.lo);
    let hi = u64::from(r.hi);
    while *from < cut.len() && u64::from(cut[*from].hi) < lo {
        *from += 1;
    }
    let mut k = *from;
    while lo <= hi && k < cut.len() && u64::from(cut[k].lo) <= hi {
        let c = cut[k];
        if u64::from(c.lo) > lo {
            emit(Range {
                lo: lo as u32,
                hi: c.lo - 1,
            });
        }
        lo = u64::from(c.hi) + 1;
        k += 1;
    }
    if lo <= hi {
        emit(Range {
            lo: lo as u32,
            hi: r.hi,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use test_case::test_case;

    fn ip(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().expect("test address"))
    }

    fn set(ranges: &[(&str, &str)]) -> IpSet {
        IpSet::from_ranges(
            ranges
                .iter()
                .map(|(a, b)| Range {
                    lo: ip(a),
                    hi: ip(b),
                })
                .collect(),
        )
    }

    fn text(s: &IpSet) -> String {
        String::from_utf8(s.render()).expect("ascii")
    }

    #[test_case(&[("0.0.0.0", "255.255.255.255")], "0.0.0.0/0\n" ; "everything")]
    #[test_case(&[("255.255.255.255", "255.255.255.255")], "255.255.255.255\n" ; "last address")]
    #[test_case(&[("0.0.0.0", "0.0.0.0")], "0.0.0.0\n" ; "first address")]
    #[test_case(&[("255.255.255.255", "255.255.255.255"), ("0.0.0.0", "0.0.0.0")], "0.0.0.0\n255.255.255.255\n" ; "end then start does not wrap")]
    #[test_case(&[("1.2.3.4", "1.2.3.9")], "1.2.3.4/30\n1.2.3.8/31\n" ; "unaligned range")]
    #[test_case(&[("10.0.0.0", "10.0.0.255"), ("10.0.1.0", "10.0.1.255")], "10.0.0.0/23\n" ; "adjacent merge")]
    #[test_case(&[("10.0.0.0", "10.0.0.255"), ("10.0.0.7", "10.0.0.7")], "10.0.0.0/24\n" ; "contained")]
    #[test_case(&[("0.0.0.1", "255.255.255.254")], include_str!("testdata/worst_case.txt") ; "worst case 62 blocks")]
    #[test_case(&[], "" ; "empty")]
    fn renders_like_iprange(ranges: &[(&str, &str)], want: &str) {
        assert_eq!(text(&set(ranges)), want);
    }

    #[test]
    fn worst_case_has_62_blocks() {
        assert_eq!(set(&[("0.0.0.1", "255.255.255.254")]).cidr_count(), 62);
    }

    #[test_case(&[("0.0.0.0", "255.255.255.255")], &[("1.2.3.4", "1.2.3.4")], &[("0.0.0.0", "1.2.3.3"), ("1.2.3.5", "255.255.255.255")] ; "hole in everything")]
    #[test_case(&[("0.0.0.0", "255.255.255.255")], &[("255.255.255.255", "255.255.255.255")], &[("0.0.0.0", "255.255.255.254")] ; "cut the last address")]
    #[test_case(&[("10.0.0.0", "10.0.0.255")], &[("0.0.0.0", "255.255.255.255")], &[] ; "cut everything")]
    #[test_case(&[("10.0.0.0", "10.0.0.9"), ("10.0.0.20", "10.0.0.29")], &[("10.0.0.5", "10.0.0.24")], &[("10.0.0.0", "10.0.0.4"), ("10.0.0.25", "10.0.0.29")] ; "one cut spans two ranges")]
    #[test_case(&[("10.0.0.0", "10.0.0.255")], &[("10.0.0.1", "10.0.0.1"), ("10.0.0.3", "10.0.0.3")], &[("10.0.0.0", "10.0.0.0"), ("10.0.0.2", "10.0.0.2"), ("10.0.0.4", "10.0.0.255")] ; "two cuts in one range")]
    fn difference(a: &[(&str, &str)], b: &[(&str, &str)], want: &[(&str, &str)]) {
        assert_eq!(set(a).difference(&set(b)), set(want));
    }

    fn arb_range() -> impl Strategy<Value = Range> {
        // Mix small ranges near interesting places with arbitrary ones, so that
        // overlaps, adjacency and both ends of the address space come up often.
        prop_oneof![
            (any::<u32>(), 0u32..64).prop_map(|(lo, n)| Range {
                lo,
                hi: lo.saturating_add(n)
            }),
            (0u32..512, 0u32..64).prop_map(|(lo, n)| Range { lo, hi: lo + n }),
            (0u32..512, 0u32..64).prop_map(|(d, n)| Range {
                lo: u32::MAX - d - n,
                hi: u32::MAX - d
            }),
            (any::<u32>(), 0u8..=32).prop_map(|(a, l)| Range::from_cidr(a, l)),
        ]
    }

    fn arb_ranges() -> impl Strategy<Value = Vec<Range>> {
        prop::collection::vec(arb_range(), 0..40)
    }

    /// Membership of `addr` in a raw list of ranges (the reference model).
    fn in_raw(ranges: &[Range], addr: u32) -> bool {
        ranges.iter().any(|r| r.lo <= addr && addr <= r.hi)
    }

    /// Addresses worth probing: every range end and its neighbours.
    fn probes(ranges: &[Range]) -> Vec<u32> {
        let mut p = vec![0, 1, u32::MAX - 1, u32::MAX];
        for r in ranges {
            for a in [r.lo, r.hi] {
                p.extend([a.wrapping_sub(1), a, a.wrapping_add(1)]);
            }
        }
        p
    }

    fn assert_canonical(s: &IpSet) {
        for w in s.ranges().windows(2) {
            // Sorted, non-overlapping and not adjacent (else they would merge).
            assert!(u64::from(w[0].hi) + 1 < u64::from(w[1].lo), "{w:?}");
        }
        for r in s.ranges() {
            assert!(r.lo <= r.hi);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn union_covers_exactly_the_input(input in arb_ranges()) {
            let s = IpSet::from_ranges(input.clone());
            assert_canonical(&s);
            for a in probes(&input) {
                prop_assert_eq!(s.contains(a), in_raw(&input, a), "address {}", a);
            }
            let total: u64 = s.ranges().iter().map(Range::addresses).sum();
            prop_assert_eq!(total, s.addresses());
        }

        #[test]
        fn difference_covers_exactly_input_minus_exceptions(a in arb_ranges(), b in arb_ranges()) {
            let d = IpSet::from_ranges(a.clone()).difference(&IpSet::from_ranges(b.clone()));
            assert_canonical(&d);
            let mut all = a.clone();
            all.extend(&b);
            for x in probes(&all) {
                prop_assert_eq!(d.contains(x), in_raw(&a, x) && !in_raw(&b, x), "address {}", x);
            }
        }

        #[test]
        fn cidrs_are_sorted_disjoint_minimal_and_exact(input in arb_ranges()) {
            let s = IpSet::from_ranges(input);
            let cidrs: Vec<Cidr> = s.cidrs().collect();
            let mut covered = 0u64;
            for c in &cidrs {
                prop_assert!(c.len <= 32);
                prop_assert_eq!(c.addr & !prefix_mask(c.len), 0, "host bits in {}", c);
                covered += Range::from_cidr(c.addr, c.len).addresses();
            }
            prop_assert_eq!(covered, s.addresses());
            for w in cidrs.windows(2) {
                let (x, y) = (Range::from_cidr(w[0].addr, w[0].len), Range::from_cidr(w[1].addr, w[1].len));
                prop_assert!(x.hi < y.lo, "sorted and disjoint: {} {}", w[0], w[1]);
                // Minimal: two equal-size siblings would have merged into their parent.
                let siblings = w[0].len == w[1].len && w[0].len > 0
                    && u64::from(x.hi) + 1 == u64::from(y.lo)
                    && w[0].addr & !prefix_mask(w[0].len - 1) == 0;
                prop_assert!(!siblings, "mergeable: {} {}", w[0], w[1]);
            }
            // Each range needs at least as many blocks as the split produced:
            // compare with a brute-force optimum on small ranges.
            for r in s.ranges() {
                if r.addresses() <= 256 {
                    prop_assert_eq!(split(*r).count(), brute_min_blocks(*r));
                }
            }
        }

        #[test]
        fn aggregating_twice_changes_nothing(input in arb_ranges()) {
            let once = IpSet::from_ranges(input);
            let again = IpSet::from_ranges(
                once.cidrs().map(|c| Range::from_cidr(c.addr, c.len)).collect(),
            );
            prop_assert_eq!(&once, &again);
            prop_assert_eq!(once.render(), again.render());
        }

        /// `list merge`'s path: each thread's singles and ranges sorted
        /// apart, cut into parts, each part's union rendered on its own.
        #[test]
        fn parts_of_runs_render_the_whole(a in arb_ranges(), b in arb_ranges(), pieces in 1usize..12) {
            let whole = IpSet::from_ranges([a.clone(), b.clone()].concat()).render();
            let apart = |rs: &[Range]| {
                let mut singles: Vec<u32> = rs.iter().filter(|r| r.lo == r.hi).map(|r| r.lo).collect();
                let mut packed: Vec<u64> = rs.iter().filter(|r| r.lo != r.hi).map(|&r| pack(r)).collect();
                aggregate_singles(&mut singles);
                aggregate_packed(&mut packed);
                (singles, packed)
            };
            let ((sa, pa), (sb, pb)) = (apart(&a), apart(&b));
            let runs = [Run::Singles(&sa), Run::Packed(&pa), Run::Singles(&sb), Run::Packed(&pb)];
            let mut out = Vec::new();
            for part in cut_runs(&runs, pieces) {
                union_runs(&part, |r| push_range(&mut out, r));
            }
            prop_assert_eq!(out, whole);
        }

        #[test]
        fn render_matches_display(input in arb_ranges()) {
            let s = IpSet::from_ranges(input);
            let via_display: String = s.cidrs().map(|c| format!("{c}\n")).collect();
            prop_assert_eq!(text(&s), via_display);
        }
    }

    /// The fewest aligned blocks covering exactly `r` (dynamic programming).
    fn brute_min_blocks(r: Range) -> usize {
        let n = r.addresses() as usize;
        let mut best = vec![usize::MAX; n + 1];
        best[0] = 0;
        for i in 0..n {
            if best[i] == usize::MAX {
                continue;
            }
            let start = u64::from(r.lo) + i as u64;
            for bits in 0..=32u32 {
                let size = 1u64 << bits;
                if !start.is_multiple_of(size) || i as u64 + size > n as u64 {
                    break;
                }
                let j = i + size as usize;
                best[j] = best[j].min(best[i] + 1);
            }
        }
        best[n]
    }
}
