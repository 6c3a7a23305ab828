//! Parser for FireHOL `.netset` / `.ipset` files and plain IPv4 lists. Pure:
//! takes a reader or bytes, never a path.
//!
//! Accepted on a line, after optional spaces or tabs: an address
//! (`1.2.3.4`), a CIDR (`1.2.3.0/24`, or with a contiguous dotted mask
//! `1.2.3.0/255.255.255.0`) or a range (`1.2.3.4 - 1.2.3.9`), optionally
//! followed by a `#` or `;` comment. Blank lines and lines starting with `#`
//! or `;` are skipped. This is the syntax iprange reads, minus what makes it
//! guess: `inet_aton` shorthands (`1.2.3`, `010.1.1.1` read as octal, hex),
//! and host names (iprange resolves them with DNS). Those lines are rejected
//! and reported with their line number instead.
//!
//! IPv6 addresses and networks are counted and dropped: GuardDuty threat lists
//! are documented for IPv4. A CIDR with host bits set (`1.2.3.77/24`) is read
//! as its network, like iprange does, and counted so that it is never silent.

use std::io::{self, Read};
use std::net::Ipv6Addr;

use super::aggregate::{Range, prefix_mask};

/// How many rejected lines are kept as examples (all of them are counted).
pub const MAX_KEPT_REJECTS: usize = 20;

/// How many characters of a rejected line are kept for the report.
const MAX_REJECT_TEXT: usize = 80;

/// Everything read from one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The IPv4 ranges, in file order.
    pub ranges: Vec<Range>,
    /// Lines that held an IPv4 entry.
    pub entries: u64,
    /// Lines that held an IPv6 address or network (dropped).
    pub ipv6: u64,
    /// CIDR lines whose host bits were set and cleared (`1.2.3.77/24`).
    pub host_bits: u64,
    /// Line number of the first CIDR with host bits set.
    pub first_host_bits_line: Option<u64>,
    /// Lines that could not be read as an entry.
    pub rejected: u64,
    /// The first [`MAX_KEPT_REJECTS`] rejected lines.
    pub rejects: Vec<Reject>,
    /// Lines in the input (a last line without a newline counts).
    pub lines: u64,
    /// What the FireHOL comment header says, when it is there.
    pub header: Header,
}

impl Parsed {
    /// Lines that held something other than a comment or blank.
    pub fn data_lines(&self) -> u64 {
        self.entries + self.ipv6 + self.rejected
    }
}

/// A line that is not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number.
    pub line: u64,
    /// The line (trimmed, lossy UTF-8, at most 80 characters).
    pub text: String,
    /// Why it was rejected.
    pub reason: RejectReason,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {:?}", self.line, self.reason, self.text)
    }
}

/// Why a line was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Not an address, a CIDR or a range (a host name, HTML, garbage).
    #[error("not an IPv4 address, CIDR or range")]
    NotAnAddress,
    /// Fewer than four octets: `inet_aton` would guess (`1.2.3` is 1.2.0.3).
    #[error("fewer than four octets")]
    TooFewOctets,
    /// An octet with a leading zero: `inet_aton` reads it as octal.
    #[error("octet with a leading zero (ambiguous: octal)")]
    LeadingZero,
    /// An octet above 255.
    #[error("octet above 255")]
    OctetTooLarge,
    /// A prefix length above 32 or a netmask that is not contiguous.
    #[error("invalid prefix length or netmask")]
    BadPrefix,
    /// An IPv6-looking token that is not a valid IPv6 address or network.
    #[error("invalid IPv6 address")]
    BadIpv6,
    /// Text after the entry that is not a `#` or `;` comment.
    #[error("unexpected text after the entry")]
    TrailingText,
}

/// The FireHOL comment header of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `# This File Date`: when FireHOL last wrote the list.
    pub this_file_date: Option<FileDate>,
    /// `# Source File Date`: when the upstream source last changed.
    pub source_file_date: Option<FileDate>,
    /// `# This File Date` as written, when it could not be read as a date.
    pub unreadable_date: Option<String>,
    /// `# Entries`, as written (for example `1947 subnets, 612378368 unique IPs`).
    pub entries: Option<String>,
}

/// A FireHOL header date (`Tue Jan 23 09:17:57 UTC 2024`), as Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileDate {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
}

impl std::fmt::Display for FileDate {
    /// RFC 3339 in UTC, e.g. `2024-01-23T09:17:57Z`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.unix.div_euclid(86_400);
        let secs = self.unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Parse a whole list from a reader.
pub fn parse(mut reader: impl Read) -> io::Result<Parsed> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    Ok(parse_bytes(&bytes))
}

/// Parse a whole list held in memory.
pub fn parse_bytes(bytes: &[u8]) -> Parsed {
    let mut sink = ParsedSink {
        p: Parsed {
            ranges: Vec::with_capacity(bytes.len() / 14),
            ..Parsed::default()
        },
        in_header: true,
    };
    sink.p.lines = scan(bytes, &mut sink);
    sink.p
}

/// [`parse_bytes`]'s side of [`scan`]: everything [`Parsed`] holds.
struct ParsedSink {
    p: Parsed,
    in_header: bool,
}

impl Sink for ParsedSink {
    #[inline]
    fn entry(&mut self, range: Range, host_bits: bool, line: u64) {
        self.in_header = false;
        self.p.entries += 1;
        self.p.ranges.push(range);
        if host_bits {
            self.p.host_bits += 1;
            self.p.first_host_bits_line.get_or_insert(line);
        }
    }

    fn comment(&mut self, text: &[u8]) {
        if self.in_header {
            read_header_line(text, &mut self.p.header);
        }
    }

    fn ipv6(&mut self) {
        self.in_header = false;
        self.p.ipv6 += 1;
    }

    fn reject(&mut self, reason: RejectReason, text: &[u8], line: u64) {
        self.in_header = false;
        self.p.rejected += 1;
        if self.p.rejects.len() < MAX_KEPT_REJECTS {
            self.p.rejects.push(Reject {
                line,
                text: reject_text(text),
                reason,
            });
        }
    }
}

/// What [`scan`] tells about each line that is not blank.
pub(crate) trait Sink {
    /// An IPv4 entry on line `line` (1-based); `host_bits` when a CIDR's host
    /// bits were set (and are now cleared).
    fn entry(&mut self, range: Range, host_bits: bool, line: u64);
    /// A `#` or `;` comment: the text after the marker.
    fn comment(&mut self, text: &[u8]);
    /// A valid IPv6 entry (dropped).
    fn ipv6(&mut self);
    /// A line that is not a valid entry, as read (line end included).
    fn reject(&mut self, reason: RejectReason, text: &[u8], line: u64);
}

/// Read every line of `bytes` into `sink`; returns how many lines there are
/// (a last line without a newline counts).
///
/// The common line, `a.b.c.d` or `a.b.c.d/len` right before its newline, is
/// read in one pass by [`fast_entry`]; every other line (blank, comment,
/// range, spaces, CRLF, anything rejected) goes through [`parse_line`],
/// which alone decides what is rejected and why.
pub(crate) fn scan(bytes: &[u8], sink: &mut impl Sink) -> u64 {
    let mut pos = 0usize;
    let mut lines = 0u64;
    while pos < bytes.len() {
        lines += 1;
        let rest = &bytes[pos..];
        if let Some((range, host_bits, len)) = fast_entry(rest) {
            sink.entry(range, host_bits, lines);
            pos += len;
            continue;
        }
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..len];
        match parse_line(line) {
            Line::Blank => {}
            Line::Comment(text) => sink.comment(text),
            Line::V4 { range, host_bits } => sink.entry(range, host_bits, lines),
            Line::V6 => sink.ipv6(),
            Line::Bad(reason) => sink.reject(reason, line, lines),
        }
        pos += len;
    }
    lines
}

/// One decimal digit at `s[i]`.
#[inline(always)]
fn digit(s: &[u8], i: usize) -> Option<u32> {
    let d = s.get(i)?.wrapping_sub(b'0');
    (d <= 9).then_some(u32::from(d))
}

/// An octet at `s[*i..]`: 1 to 3 digits, no leading zero, at most 255.
#[inline(always)]
fn fast_octet(s: &[u8], i: &mut usize) -> Option<u32> {
    let mut v = digit(s, *i)?;
    *i += 1;
    if let Some(d) = digit(s, *i) {
        if v == 0 {
            return None;
        }
        v = v * 10 + d;
        *i += 1;
        if let Some(d) = digit(s, *i) {
            v = v * 10 + d;
            *i += 1;
        }
    }
    (v <= 255).then_some(v)
}

/// The line at the start of `s` when it is exactly `a.b.c.d` or
/// `a.b.c.d/len` (prefix length in decimal) followed by `\n` or the end of
/// `s`: the range, whether host bits were set, and the line's length with
/// its newline. `None` for anything else, valid or not: [`parse_line`]
/// reads those lines, and reads these ones the same way (a test checks it).
#[inline]
fn fast_entry(s: &[u8]) -> Option<(Range, bool, usize)> {
    let mut i = 0usize;
    let mut addr = fast_octet(s, &mut i)?;
    for _ in 0..3 {
        if s.get(i) != Some(&b'.') {
            return None;
        }
        i += 1;
        addr = (addr << 8) | fast_octet(s, &mut i)?;
    }
    let (range, host_bits) = match s.get(i) {
        None => return Some((Range { lo: addr, hi: addr }, false, i)),
        Some(b'\n') => return Some((Range { lo: addr, hi: addr }, false, i + 1)),
        Some(b'/') => {
            i += 1;
            let mut len = digit(s, i)?;
            i += 1;
            if let Some(d) = digit(s, i) {
                len = len * 10 + d;
                i += 1;
            }
            if len > 32 {
                return None;
            }
            let len = len as u8;
            let host_bits = addr & !prefix_mask(len) != 0;
            (Range::from_cidr(addr, len), host_bits)
        }
        Some(_) => return None,
    };
    match s.get(i) {
        None => Some((range, host_bits, i)),
        Some(b'\n') => Some((range, host_bits, i + 1)),
        Some(_) => None,
    }
}

/// What one line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// Empty or only spaces.
    Blank,
    /// A `#` or `;` comment; the text after the marker.
    Comment(&'a [u8]),
    /// An IPv4 entry.
    V4 {
        /// The addresses.
        range: Range,
        /// Whether a CIDR had host bits set (now cleared).
        host_bits: bool,
    },
    /// A valid IPv6 entry (dropped).
    V6,
    /// Not a valid entry.
    Bad(RejectReason),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_comment(b: u8) -> bool {
    matches!(b, b'#' | b';')
}

/// Read one line (with or without its line end).
pub(crate) fn parse_line(line: &[u8]) -> Line<'_> {
    let line = trim_start(line);
    let Some(&first) = line.first() else {
        return Line::Blank;
    };
    if is_comment(first) {
        return Line::Comment(&line[1..]);
    }
    let end1 = token_end(line);
    let (tok1, rest) = line.split_at(end1);
    let rest = trim_start(rest);
    let (tok2, rest) = match rest.split_first() {
        Some((b'-', after)) => {
            let after = trim_start(after);
            let end2 = token_end(after);
            let (tok2, rest) = after.split_at(end2);
            (Some(tok2), trim_start(rest))
        }
        _ => (None, rest),
    };
    if rest.first().is_some_and(|&b| !is_comment(b)) {
        return Line::Bad(if looks_like_entry(tok1) {
            RejectReason::TrailingText
        } else {
            RejectReason::NotAnAddress
        });
    }
    match tok2 {
        None => match parse_v4(tok1) {
            Ok((range, host_bits)) => Line::V4 { range, host_bits },
            Err(reason) => reason,
        },
        Some(tok2) => match (parse_v4(tok1), parse_v4(tok2)) {
            (Ok((a, _)), Ok((b, _))) => {
                // Like iprange: from the first address of the first entry to
                // the last of the second, reversed ranges swapped.
                let (lo, hi) = (a.lo.min(b.lo), a.hi.max(b.hi));
                Line::V4 {
                    range: Range { lo, hi },
                    host_bits: false,
                }
            }
            (Err(Line::Bad(r)), _) | (_, Err(Line::Bad(r))) => Line::Bad(r),
            _ => Line::Bad(RejectReason::NotAnAddress),
        },
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_space(b)).count();
    &s[n..]
}

/// The end of an entry token: a space, a comment marker or a range dash.
fn token_end(s: &[u8]) -> usize {
    s.iter()
        .position(|&b| is_space(b) || is_comment(b) || b == b'-')
        .unwrap_or(s.len())
}

fn looks_like_entry(tok: &[u8]) -> bool {
    !tok.is_empty()
        && tok
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b'.' || b == b'/')
}

/// One address or CIDR token. The error is the whole [`Line`] so that a
/// valid IPv6 token can be reported as such rather than as a reject.
fn parse_v4(tok: &[u8]) -> Result<(Range, bool), Line<'static>> {
    if tok.contains(&b':') {
        return Err(parse_v6(tok));
    }
    let (addr, prefix) = match tok.iter().position(|&b| b == b'/') {
        Some(i) => (&tok[..i], Some(&tok[i + 1..])),
        None => (tok, None),
    };
    let addr = parse_addr(addr).map_err(Line::Bad)?;
    let Some(prefix) = prefix else {
        return Ok((Range { lo: addr, hi: addr }, false));
    };
    let len = parse_prefix(prefix).map_err(Line::Bad)?;
    let host_bits = addr & !prefix_mask(len) != 0;
    Ok((Range::from_cidr(addr, len), host_bits))
}

fn parse_v6(tok: &[u8]) -> Line<'static> {
    let Ok(s) = std::str::from_utf8(tok) else {
        return Line::Bad(RejectReason::BadIpv6);
    };
    let valid = match s.split_once('/') {
        Some((a, len)) => {
            a.parse::<Ipv6Addr>().is_ok()
                && len.len() <= 3
                && len.bytes().all(|b| b.is_ascii_digit())
                && len.parse::<u8>().is_ok_and(|l| l <= 128)
        }
        None => s.parse::<Ipv6Addr>().is_ok(),
    };
    if valid {
        Line::V6
    } else {
        Line::Bad(RejectReason::BadIpv6)
    }
}

/// A dotted quad, strictly: four decimal octets, no leading zeros.
fn parse_addr(s: &[u8]) -> Result<u32, RejectReason> {
    let mut value = 0u32;
    let mut octets = 0;
    for part in s.split(|&b| b == b'.') {
        if octets == 4 {
            return Err(RejectReason::NotAnAddress);
        }
        value = (value << 8) | u32::from(parse_octet(part)?);
        octets += 1;
    }
    if octets < 4 {
        return Err(
            if octets > 0 && s.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
                RejectReason::TooFewOctets
            } else {
                RejectReason::NotAnAddress
            },
        );
    }
    Ok(value)
}

fn parse_octet(part: &[u8]) -> Result<u8, RejectReason> {
    if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
        return Err(RejectReason::NotAnAddress);
    }
    if part.len() > 1 && part[0] == b'0' {
        return Err(RejectReason::LeadingZero);
    }
    let v = part
        .iter()
        .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'));
    u8::try_from(v).map_err(|_| RejectReason::OctetTooLarge)
}

/// A prefix length (`24`) or a contiguous dotted netmask (`255.255.255.0`).
fn parse_prefix(s: &[u8]) -> Result<u8, RejectReason> {
    if s.contains(&b'.') {
        let mask = parse_addr(s).map_err(|_| RejectReason::BadPrefix)?;
        let len = mask.leading_ones();
        return if prefix_mask(len as u8) == mask {
            Ok(len as u8)
        } else {
            Err(RejectReason::BadPrefix)
        };
    }
    if s.is_empty() || s.len() > 2 || !s.iter().all(u8::is_ascii_digit) {
        return Err(RejectReason::BadPrefix);
    }
    let v = s.iter().fold(0u8, |acc, &b| acc * 10 + (b - b'0'));
    if v > 32 {
        return Err(RejectReason::BadPrefix);
    }
    Ok(v)
}

pub(crate) fn reject_text(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    match text.char_indices().nth(MAX_REJECT_TEXT) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_owned(),
    }
}

/// Read `# Key : value` lines of the FireHOL header.
fn read_header_line(text: &[u8], header: &mut Header) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Some((key, value)) = text.split_once(':') else {
        return;
    };
    let value = value.trim();
    match key.trim().to_ascii_lowercase().as_str() {
        "this file date" if header.this_file_date.is_none() => match parse_file_date(value) {
            Some(d) => header.this_file_date = Some(d),
            None => header.unreadable_date = Some(value.to_owned()),
        },
        "source file date" if header.source_file_date.is_none() => {
            header.source_file_date = parse_file_date(value);
        }
        "entries" if header.entries.is_none() => header.entries = Some(value.to_owned()),
        _ => {}
    }
}

/// `2026-11-30T08:00:00Z`, as guardsync writes times (the manifest's
/// `built_at`, [`FileDate`]'s display); UTC only.
pub(crate) fn parse_rfc3339(s: &str) -> Option<FileDate> {
    let (date, time) = s.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(str::parse::<i64>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(str::parse::<i64>);
    let (h, m, sec) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    civil(
        year,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
        (h, m, sec),
    )
}

/// A UTC date and time of day as a [`FileDate`], when every part is in range.
fn civil(year: i64, month: u32, day: u32, (h, m, sec): (i64, i64, i64)) -> Option<FileDate> {
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&m)
        || !(0..=60).contains(&sec)
        || !(1970..=9999).contains(&year)
    {
        return None;
    }
    Some(FileDate {
        unix: days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec,
    })
}

/// `date -u` output: `Tue Jan 23 09:17:57 UTC 2024` (UTC or GMT only).
pub(crate) fn parse_file_date(s: &str) -> Option<FileDate> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_weekday, month, day, time, zone, year] = parts.as_slice() else {
        return None;
    };
    if !matches!(*zone, "UTC" | "GMT") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let day: u32 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|v| v.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() {
        return None;
    }
    civil(year, month, day, (h, m, sec))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, <https://howardhinnant.github.io/date_algorithms.html>).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;
    use test_case::test_case;

    fn ip(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().expect("test address"))
    }

    fn v4(lo: &str, hi: &str, host_bits: bool) -> Line<'static> {
        Line::V4 {
            range: Range {
                lo: ip(lo),
                hi: ip(hi),
            },
            host_bits,
        }
    }

    #[test_case("1.2.3.4", v4("1.2.3.4", "1.2.3.4", false) ; "address")]
    #[test_case("1.2.3.4\r\n", v4("1.2.3.4", "1.2.3.4", false) ; "crlf")]
    #[test_case(" \t1.2.3.4  \n", v4("1.2.3.4", "1.2.3.4", false) ; "spaces")]
    #[test_case("1.2.3.0/24", v4("1.2.3.0", "1.2.3.255", false) ; "cidr")]
    #[test_case("0.0.0.0/0", v4("0.0.0.0", "255.255.255.255", false) ; "everything")]
    #[test_case("255.255.255.255/32", v4("255.255.255.255", "255.255.255.255", false) ; "last")]
    #[test_case("1.2.3.77/24", v4("1.2.3.0", "1.2.3.255", true) ; "host bits cleared and flagged")]
    #[test_case("1.2.3.4/08", v4("1.0.0.0", "1.255.255.255", true) ; "prefix with zero")]
    #[test_case("1.2.3.0/255.255.255.0", v4("1.2.3.0", "1.2.3.255", false) ; "dotted mask")]
    #[test_case("1.2.3.4 - 1.2.3.9", v4("1.2.3.4", "1.2.3.9", false) ; "range")]
    #[test_case("1.2.3.4-1.2.3.9", v4("1.2.3.4", "1.2.3.9", false) ; "range without spaces")]
    #[test_case("1.2.3.9 - 1.2.3.4", v4("1.2.3.4", "1.2.3.9", false) ; "reversed range swapped")]
    #[test_case("1.2.3.0/24 - 1.2.5.0/24", v4("1.2.3.0", "1.2.5.255", false) ; "range of cidrs")]
    #[test_case("1.2.3.4 # comment", v4("1.2.3.4", "1.2.3.4", false) ; "trailing comment")]
    #[test_case("1.2.3.4#x", v4("1.2.3.4", "1.2.3.4", false) ; "glued comment")]
    #[test_case("1.2.3.4;x", v4("1.2.3.4", "1.2.3.4", false) ; "semicolon comment")]
    #[test_case("", Line::Blank ; "empty")]
    #[test_case("  \r\n", Line::Blank ; "blank")]
    #[test_case("# x", Line::Comment(b" x") ; "comment")]
    #[test_case(";x", Line::Comment(b"x") ; "semicolon line")]
    #[test_case("::1", Line::V6 ; "ipv6")]
    #[test_case("2001:db8::/32", Line::V6 ; "ipv6 net")]
    #[test_case("2001:db8::/129", Line::Bad(RejectReason::BadIpv6) ; "ipv6 bad prefix")]
    #[test_case("1.2.3", Line::Bad(RejectReason::TooFewOctets) ; "three octets")]
    #[test_case("1.2.3.4.5", Line::Bad(RejectReason::NotAnAddress) ; "five octets")]
    #[test_case("010.1.1.1", Line::Bad(RejectReason::LeadingZero) ; "octal")]
    #[test_case("0x7f.0.0.1", Line::Bad(RejectReason::NotAnAddress) ; "hex")]
    #[test_case("256.1.1.1", Line::Bad(RejectReason::OctetTooLarge) ; "octet too large")]
    #[test_case("1.2.3.4/33", Line::Bad(RejectReason::BadPrefix) ; "prefix too long")]
    #[test_case("1.2.3.4/", Line::Bad(RejectReason::BadPrefix) ; "empty prefix")]
    #[test_case("1.2.3.4/255.0.255.0", Line::Bad(RejectReason::BadPrefix) ; "non contiguous mask")]
    #[test_case("example.com", Line::Bad(RejectReason::NotAnAddress) ; "host name")]
    #[test_case("<html>", Line::Bad(RejectReason::NotAnAddress) ; "html")]
    #[test_case("1.2.3.4 5.6.7.8", Line::Bad(RejectReason::TrailingText) ; "two addresses")]
    #[test_case("1.2.3.4 -", Line::Bad(RejectReason::NotAnAddress) ; "open range")]
    #[test_case("1..3.4", Line::Bad(RejectReason::NotAnAddress) ; "empty octet")]
    fn lines(input: &str, want: Line<'static>) {
        assert_eq!(parse_line(input.as_bytes()), want);
    }

    #[test]
    fn reads_firehol_header_and_counts() {
        let input = "#\n# firehol_level1\n# Source File Date: Tue Jan 23 08:55:02 UTC 2024\n\
                     # This File Date  : Tue Jan 23 09:17:57 UTC 2024\n\
                     # Entries         : 3 subnets, 3 unique IPs\n\
                     1.2.3.4\n\n::1\nbogus\n5.6.7.0/24\n# This File Date: Mon Jan  1 00:00:00 UTC 2024\n";
        let p = parse(input.as_bytes()).expect("in memory");
        assert_eq!(p.entries, 2);
        assert_eq!(p.ipv6, 1);
        assert_eq!(p.rejected, 1);
        assert_eq!(p.lines, 11);
        assert_eq!(p.data_lines(), 4);
        assert_eq!(p.rejects[0].line, 9);
        assert_eq!(p.rejects[0].text, "bogus");
        let date = p.header.this_file_date.expect("date");
        assert_eq!(date.to_string(), "2024-01-23T09:17:57Z");
        assert_eq!(
            p.header.source_file_date.map(|d| d.to_string()).as_deref(),
            Some("2024-01-23T08:55:02Z")
        );
        assert_eq!(p.header.entries.as_deref(), Some("3 subnets, 3 unique IPs"));
    }

    #[test]
    fn keeps_few_rejects_but_counts_all() {
        let input = "x\n".repeat(1000);
        let p = parse_bytes(input.as_bytes());
        assert_eq!(p.rejected, 1000);
        assert_eq!(p.rejects.len(), MAX_KEPT_REJECTS);
        assert_eq!(p.rejects[19].line, 20);
    }

    #[test]
    fn host_bits_are_counted_with_their_line() {
        let p = parse_bytes(b"1.2.3.0/24\n1.2.4.9/24\n1.2.5.9/24\n");
        assert_eq!((p.host_bits, p.first_host_bits_line), (2, Some(2)));
    }

    #[test_case("Tue Jan 23 09:17:57 UTC 2024", Some(1_706_001_477) ; "firehol")]
    #[test_case("Mon Jan  1 00:00:00 UTC 2024", Some(1_704_067_200) ; "padded day")]
    #[test_case("Thu Feb 29 12:00:00 GMT 2024", Some(1_709_208_000) ; "leap day")]
    #[test_case("Tue Jan 23 09:17:57 CET 2024", None ; "other zone")]
    #[test_case("2024-01-23", None ; "iso")]
    #[test_case("Tue Foo 23 09:17:57 UTC 2024", None ; "bad month")]
    #[test_case("Tue Jan 23 25:17:57 UTC 2024", None ; "bad hour")]
    fn file_dates(s: &str, unix: Option<i64>) {
        assert_eq!(parse_file_date(s).map(|d| d.unix), unix);
    }

    #[test]
    fn unreadable_date_is_kept() {
        let p = parse_bytes(b"# This File Date: yesterday\n1.2.3.4\n");
        assert_eq!(p.header.this_file_date, None);
        assert_eq!(p.header.unreadable_date.as_deref(), Some("yesterday"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Fuzz: no input panics, and every range is well formed.
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let p = parse_bytes(&bytes);
            prop_assert!(p.ranges.iter().all(|r| r.lo <= r.hi));
            prop_assert_eq!(p.ranges.len() as u64, p.entries);
        }

        /// Fuzz with input that looks like a list, to reach the deep branches.
        #[test]
        fn never_panics_on_list_like_text(s in "([0-9./: #;\\-a-f\t\r]{0,24}\n){0,20}") {
            let p = parse_bytes(s.as_bytes());
            prop_assert!(p.ranges.iter().all(|r| r.lo <= r.hi));
        }

        /// Every address and CIDR printed canonically reads back as itself.
        #[test]
        fn round_trips_canonical_entries(addr in any::<u32>(), len in 0u8..=32) {
            let net = addr & prefix_mask(len);
            let text = if len == 32 {
                Ipv4Addr::from(net).to_string()
            } else {
                format!("{}/{}", Ipv4Addr::from(net), len)
            };
            prop_assert_eq!(
                parse_line(text.as_bytes()),
                Line::V4 { range: Range::from_cidr(net, len), host_bits: false }
            );
        }

        /// The fast path reads every line it takes exactly as `parse_line` does.
        #[test]
        fn fast_path_agrees_with_parse_line(
            s in prop_oneof![
                "[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}(/[0-9]{0,3})?[\n\r ]?[0-9]?",
                "[0-9./\n]{0,24}",
            ]
        ) {
            let bytes = s.as_bytes();
            if let Some((range, host_bits, len)) = fast_entry(bytes) {
                let line_len = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1);
                prop_assert_eq!(len, line_len);
                prop_assert_eq!(parse_line(&bytes[..len]), Line::V4 { range, host_bits });
            }
        }

        #[test]
        fn dates_round_trip(unix in 0i64..253_402_300_799) {
            let days = unix.div_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rfc3339_times_as_guardsync_writes_them() {
        let t = parse_rfc3339("2026-11-30T08:00:00Z").expect("valid");
        assert_eq!(t.unix, 1_796_025_600);
        assert_eq!(t.to_string(), "2026-11-30T08:00:00Z");
        for bad in [
            "2026-11-30T08:00:00",
            "2026-13-30T08:00:00Z",
            "2026-11-30 08:00:00Z",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
