//! List hygiene: the reserved (bogon) table and the allowlist, subtracted
//! from the aggregated set. Pure: no I/O.
//!
//! The table is the README's "What guardsync puts in the bucket", taken from the IANA IPv4 Special-Purpose Address
//! Registry (RFC 6890, updated by RFC 8190;
//! <https://www.iana.org/assignments/iana-ipv4-special-registry/>) plus
//! multicast (RFC 5771). It lists exactly the blocks that are never publicly
//! routed: GuardDuty threat lists only act on public addresses, so these
//! entries could never match anything real and only cause the "internal
//! traffic flagged" findings users then suppress by hand. The registry's
//! globally reachable special-purpose blocks (192.31.196.0/24 AS112,
//! 192.52.193.0/24 AMT, 192.175.48.0/24) are deliberately kept.

use ipnet::Ipv4Net;

use super::aggregate::{IpSet, Range};

/// One reserved block and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedBlock {
    /// Network address.
    pub addr: [u8; 4],
    /// Prefix length.
    pub len: u8,
    /// What the block is for, and the RFC that reserves it.
    pub purpose: &'static str,
}

/// Every block `strip_reserved` removes (the README's "What guardsync puts in the bucket"), in address order.
pub const RESERVED: [ReservedBlock; 15] = [
    block([0, 0, 0, 0], 8, "\"this network\" (RFC 791, RFC 1122)"),
    block([10, 0, 0, 0], 8, "private use (RFC 1918)"),
    block([100, 64, 0, 0], 10, "shared address space, CGN (RFC 6598)"),
    block([127, 0, 0, 0], 8, "loopback (RFC 1122)"),
    block([169, 254, 0, 0], 16, "link local (RFC 3927)"),
    block([172, 16, 0, 0], 12, "private use (RFC 1918)"),
    block([192, 0, 0, 0], 24, "IETF protocol assignments (RFC 6890)"),
    block([192, 0, 2, 0], 24, "documentation TEST-NET-1 (RFC 5737)"),
    block(
        [192, 88, 99, 0],
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    block([192, 168, 0, 0], 16, "private use (RFC 1918)"),
    block([198, 18, 0, 0], 15, "benchmarking (RFC 2544)"),
    block([198, 51, 100, 0], 24, "documentation TEST-NET-2 (RFC 5737)"),
    block([203, 0, 113, 0], 24, "documentation TEST-NET-3 (RFC 5737)"),
    block([224, 0, 0, 0], 4, "multicast (RFC 5771)"),
    block(
        [240, 0, 0, 0],
        4,
        "reserved, and limited broadcast 255.255.255.255 (RFC 1112, RFC 919)",
    ),
];

const fn block(addr: [u8; 4], len: u8, purpose: &'static str) -> ReservedBlock {
    ReservedBlock { addr, len, purpose }
}

/// The reserved blocks as a set.
pub fn reserved() -> IpSet {
    IpSet::from_ranges(
        RESERVED
            .iter()
            .map(|b| Range::from_cidr(u32::from_be_bytes(b.addr), b.len))
            .collect(),
    )
}

/// A set as configured networks (the allowlist).
pub fn from_nets(nets: &[Ipv4Net]) -> IpSet {
    IpSet::from_ranges(
        nets.iter()
            .map(|n| Range::from_cidr(u32::from(n.network()), n.prefix_len()))
            .collect(),
    )
}

/// The list after hygiene, with what each step removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// What is left to publish.
    pub set: IpSet,
    /// Addresses removed because they are reserved (0 when the step is off).
    pub removed_reserved: u64,
    /// Addresses removed because they are allowlisted.
    pub removed_allowlisted: u64,
}

/// Subtract the reserved blocks (when `strip_reserved`), then the allowlist.
pub fn clean(set: IpSet, strip_reserved: bool, allowlist: &[Ipv4Net]) -> Cleaned {
    let before = set.addresses();
    let set = if strip_reserved {
        set.difference(&reserved())
    } else {
        set
    };
    let after_reserved = set.addresses();
    let set = if allowlist.is_empty() {
        set
    } else {
        set.difference(&from_nets(allowlist))
    };
    let removed_allowlisted = after_reserved - set.addresses();
    Cleaned {
        set,
        removed_reserved: before - after_reserved,
        removed_allowlisted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::parse::parse_bytes;
    use test_case::test_case;

    fn list(text: &str) -> IpSet {
        IpSet::from_ranges(parse_bytes(text.as_bytes()).ranges)
    }

    #[test]
    fn table_is_spec_section_5() {
        let spec = "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 \
                    192.0.0.0/24 192.0.2.0/24 192.88.99.0/24 192.168.0.0/16 198.18.0.0/15 \
                    198.51.100.0/24 203.0.113.0/24 224.0.0.0/4 240.0.0.0/4";
        let ours: Vec<String> = RESERVED
            .iter()
            .map(|b| format!("{}/{}", std::net::Ipv4Addr::from(b.addr), b.len))
            .collect();
        assert_eq!(ours.join(" "), spec);
    }

    #[test_case("0.0.0.0/0", true, &[], 4_294_967_296 - 592_708_864 ; "everything keeps the public space")]
    #[test_case("255.255.255.255", true, &[], 0 ; "broadcast is reserved")]
    #[test_case("10.1.2.3\n8.8.8.8", true, &[], 1 ; "private dropped")]
    #[test_case("10.1.2.3\n8.8.8.8", false, &[], 2 ; "strip off")]
    #[test_case("8.8.8.0/24", true, &["8.8.8.8/32"], 255 ; "allowlisted address")]
    #[test_case("203.0.113.5\n8.8.8.8", false, &["203.0.113.0/24"], 1 ; "allowlist without strip")]
    fn keeps(input: &str, strip: bool, allow: &[&str], addresses: u64) {
        let allow: Vec<Ipv4Net> = allow.iter().map(|a| a.parse().expect("net")).collect();
        let c = clean(list(input), strip, &allow);
        assert_eq!(c.set.addresses(), addresses);
    }

    #[test]
    fn reports_what_each_step_removed() {
        let allow = ["8.8.8.8/32".parse().expect("net")];
        let c = clean(list("10.0.0.0/8\n8.8.8.0/24\n"), true, &allow);
        assert_eq!(c.removed_reserved, 1 << 24);
        assert_eq!(c.removed_allowlisted, 1);
        assert_eq!(c.set.addresses(), 255);
    }

    #[test]
    fn reserved_space_size() {
        // Sum of the 15 blocks; none overlap.
        assert_eq!(reserved().addresses(), 592_708_864);
        // 224/4 and 240/4 are adjacent siblings: they render as one 224.0.0.0/3.
        assert_eq!(reserved().cidr_count(), 14);
    }
}
