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
        let mut j = 0usize;
        for r in &self.ranges {
            // `lo` is the first address of `r` not yet known to be removed;
            // u64 so that it can step past 255.255.255.255.
            let mut lo = u64::from(r.lo);
            let hi = u64::from(r.hi);
            while j < other.ranges.len() && u64::from(other.ranges[j].hi) < lo {
                j += 1;
            }
            let mut k = j;
            while lo <= hi && k < other.ranges.len() && u64::from(other.ranges[k].lo) <= hi {
                let cut = other.ranges[k];
                if u64::from(cut.lo) > lo {
                    out.push(Range {
                        lo: lo as u32,
                        hi: cut.lo - 1,
                    });
                }
                lo = u64::from(cut.hi) + 1;
                k += 1;
            }
            if lo <= hi {
                out.push(Range {
                    lo: lo as u32,
                    hi: r.hi,
                });
            }
        }
        IpSet { ranges: out }
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
        for c in self.cidrs() {
            push_addr(out, c.addr);
            if c.len != 32 {
                out.push(b'/');
                push_decimal(out, c.len);
            }
            out.push(b'\n');
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

fn push_addr(out: &mut Vec<u8>, addr: u32) {
    let [a, b, c, d] = addr.to_be_bytes();
    push_decimal(out, a);
    out.push(b'.');
    push_decimal(out, b);
    out.push(b'.');
    push_decimal(out, c);
    out.push(b'.');
    push_decimal(out, d);
}

fn push_decimal(out: &mut Vec<u8>, v: u8) {
    if v >= 100 {
        out.extend_from_slice(&[b'0' + v / 100, b'0' + (v / 10) % 10, b'0' + v % 10]);
    } else if v >= 10 {
        out.extend_from_slice(&[b'0' + v / 10, b'0' + v % 10]);
    } else {
        out.push(b'0' + v);
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
