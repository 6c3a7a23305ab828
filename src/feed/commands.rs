//! `guardsync list build` and `guardsync list merge`. I/O: reads the files
//! named on the command line, writes results to stdout and warnings to stderr.
//!
//! `list merge` is the list engine as a standalone tool, output byte-identical
//! to `iprange FILE... --except FILE...` on well-formed IPv4 input. Large
//! inputs are cut at line boundaries and parsed on every core.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::aggregate::IpSet;
use super::parse::{Parsed, parse_bytes};
use super::{BuildSettings, BuiltList, FeedError, build};

/// Inputs below this size are parsed in one piece: threads would cost more.
const MIN_CHUNK: usize = 1 << 20;

/// `guardsync list build`: prints the summary to stdout (stderr when the list
/// itself goes to stdout), writes the list to `out` when given ('-' = stdout).
pub(crate) async fn list_build(
    settings: &BuildSettings,
    name: &str,
    out: Option<&Path>,
) -> Result<(), FeedError> {
    let built = build(settings, None, SystemTime::now()).await?;
    let list_to_stdout = out.is_some_and(|p| p == Path::new("-"));
    if let Some(path) = out.filter(|_| !list_to_stdout) {
        std::fs::write(path, &built.bytes).map_err(|source| FeedError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    let mut summary = summary(&built, out.filter(|_| !list_to_stdout));
    let parts = super::split::split(
        &built.bytes,
        super::split::MAX_ENTRIES,
        super::split::MAX_BYTES,
    );
    if parts.len() > 1 {
        summary.push_str(&format!(
            "over GuardDuty's limits (250,000 entries, 35 MB a list): published as {} sets in \
             address order, {}\n",
            parts.len(),
            super::split::part_names(name, parts.len()).join(", ")
        ));
    }
    if list_to_stdout {
        write_all_or_pipe(&mut io::stdout().lock(), &built.bytes)?;
        write_all_or_pipe(&mut io::stderr().lock(), summary.as_bytes())
    } else {
        write_all_or_pipe(&mut io::stdout().lock(), summary.as_bytes())
    }
}

/// `guardsync list build --list TRUSTED`: the trusted list's object, its
/// networks aggregated as a threat list is, written like [`list_build`].
pub(crate) fn trusted_build(cidrs: &[ipnet::Ipv4Net], out: Option<&Path>) -> Result<(), FeedError> {
    let set = super::hygiene::from_nets(cidrs);
    let bytes = set.render();
    let sha256 = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(&bytes))
    };
    let list_to_stdout = out.is_some_and(|p| p == Path::new("-"));
    if let Some(path) = out.filter(|_| !list_to_stdout) {
        std::fs::write(path, &bytes).map_err(|source| FeedError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    let mut summary = format!(
        "trusted list: {} entries, {} addresses, sha256 {sha256}\n",
        set.cidr_count(),
        set.addresses()
    );
    if let Some(path) = out.filter(|_| !list_to_stdout) {
        summary.push_str(&format!("written to {}\n", path.display()));
    }
    if list_to_stdout {
        write_all_or_pipe(&mut io::stdout().lock(), &bytes)?;
        write_all_or_pipe(&mut io::stderr().lock(), summary.as_bytes())
    } else {
        write_all_or_pipe(&mut io::stdout().lock(), summary.as_bytes())
    }
}

/// The `list build` summary: per feed, hygiene, then the list itself.
pub fn summary(built: &BuiltList, written_to: Option<&Path>) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for f in &built.feeds {
        let date = match (&f.file_date, f.age_hours) {
            (Some(d), Some(h)) => format!("file date {d} ({h:.1} h old)"),
            (Some(d), None) => format!("file date {d}"),
            _ => "no file date".to_owned(),
        };
        let _ = write!(
            s,
            "feed {} ({}): {} entries, {} addresses, {} rejected, {date}",
            f.name, f.url, f.entries, f.addresses, f.rejected
        );
        if f.ipv6_dropped > 0 {
            let _ = write!(s, ", {} IPv6 dropped", f.ipv6_dropped);
        }
        if f.host_bits_cleared > 0 {
            let _ = write!(s, ", {} with host bits cleared", f.host_bits_cleared);
        }
        s.push('\n');
        for r in &f.first_rejects {
            let _ = writeln!(s, "  rejected {r}");
        }
    }
    let _ = writeln!(
        s,
        "union: {} addresses; removed {} reserved and {} allowlisted addresses",
        built.union_addresses, built.removed_reserved, built.removed_allowlisted
    );
    let _ = writeln!(
        s,
        "list: {} entries, {} addresses, sha256 {}",
        built.entries, built.addresses, built.sha256
    );
    if let Some(path) = written_to {
        let _ = writeln!(s, "written to {}", path.display());
    }
    s
}

/// `guardsync list merge`: the iprange-compatible aggregation to stdout.
pub(crate) fn list_merge(files: &[PathBuf], except: &[PathBuf]) -> Result<(), FeedError> {
    let bytes = merge(files, except, &mut io::stderr().lock())?;
    write_all_or_pipe(&mut io::stdout().lock(), &bytes)
}

/// Merge `files`, subtract `except`, and return the rendered list. Problems
/// with single lines are reported to `warnings` and skipped, like iprange.
pub fn merge(
    files: &[PathBuf],
    except: &[PathBuf],
    warnings: &mut impl Write,
) -> Result<Vec<u8>, FeedError> {
    let keep = load(files, warnings)?;
    let set = if except.is_empty() {
        keep
    } else {
        keep.difference(&load(except, warnings)?)
    };
    Ok(set.render())
}

/// Read, parse and aggregate a group of files ('-' is stdin).
fn load(files: &[PathBuf], warnings: &mut impl Write) -> Result<IpSet, FeedError> {
    let mut contents = Vec::with_capacity(files.len());
    for path in files {
        contents.push(read_input(path)?);
    }
    let pieces: Vec<(usize, &[u8])> = contents
        .iter()
        .enumerate()
        .flat_map(|(i, bytes)| chunks(bytes, MIN_CHUNK).map(move |c| (i, c)))
        .collect();
    let parsed = parse_pieces(&pieces);

    // Report per file, in order; line numbers of later pieces are offset by
    // the lines of the earlier pieces of the same file.
    let mut sets = Vec::with_capacity(parsed.len());
    let mut offset = 0u64;
    let mut previous_file = usize::MAX;
    let mut per_file: Vec<(u64, u64)> = vec![(0, 0); files.len()];
    for ((file, _), (set, p)) in pieces.iter().zip(parsed) {
        if *file != previous_file {
            offset = 0;
            previous_file = *file;
        }
        let name = files[*file].display();
        for r in &p.rejects {
            let _ = writeln!(
                warnings,
                "guardsync: {name}:{}: skipped: {}: {:?}",
                r.line + offset,
                r.reason,
                r.text
            );
        }
        per_file[*file].0 += p.rejected - p.rejects.len() as u64;
        per_file[*file].1 += p.ipv6;
        offset += p.lines;
        sets.push(set);
    }
    for (file, (more, ipv6)) in per_file.iter().enumerate() {
        let name = files[file].display();
        if *more > 0 {
            let _ = writeln!(warnings, "guardsync: {name}: {more} more lines skipped");
        }
        if *ipv6 > 0 {
            let _ = writeln!(
                warnings,
                "guardsync: {name}: {ipv6} IPv6 entries ignored (IPv4 only)"
            );
        }
    }
    Ok(union_all(sets))
}

/// Parse the pieces on every core; results in piece order.
fn parse_pieces(pieces: &[(usize, &[u8])]) -> Vec<(IpSet, Parsed)> {
    let one = |bytes: &[u8]| {
        let mut p = parse_bytes(bytes);
        let set = IpSet::from_ranges(std::mem::take(&mut p.ranges));
        (set, p)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(pieces.len());
    if workers <= 1 {
        return pieces.iter().map(|(_, b)| one(b)).collect();
    }
    // Worker w takes pieces w, w + workers, ...: pieces are similar in size.
    let mut results: Vec<Option<(IpSet, Parsed)>> = (0..pieces.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    pieces
                        .iter()
                        .enumerate()
                        .skip(w)
                        .step_by(workers)
                        .map(|(i, (_, b))| (i, one(b)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A worker only panics if the parser does, which the fuzz tests
            // rule out; re-raise it rather than lose input silently.
            match h.join() {
                Ok(done) => {
                    for (i, r) in done {
                        results[i] = Some(r);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    results.into_iter().flatten().collect()
}

/// The union of already aggregated sets.
fn union_all(sets: Vec<IpSet>) -> IpSet {
    if sets.len() == 1 {
        return sets.into_iter().next().unwrap_or_default();
    }
    IpSet::union_all(&sets)
}

/// Cut `bytes` into pieces of about `min` bytes or more, at line ends.
fn chunks(bytes: &[u8], min: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = if rest.len() <= min * 2 {
            rest.len()
        } else {
            rest[min..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| min + i + 1)
        };
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

fn read_input(path: &Path) -> Result<Vec<u8>, FeedError> {
    let read_error = |source| FeedError::Read {
        path: path.display().to_string(),
        source,
    };
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        Ok(bytes)
    } else {
        std::fs::read(path).map_err(read_error)
    }
}

/// Write everything; a closed pipe (`| head`) is not an error.
fn write_all_or_pipe(out: &mut impl Write, bytes: &[u8]) -> Result<(), FeedError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(FeedError::Stdout(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(b"", 4, 0 ; "empty")]
    #[test_case(b"1\n2\n3\n", 100, 1 ; "small")]
    #[test_case(b"1.1.1.1\n2.2.2.2\n3.3.3.3\n4.4.4.4\n5.5.5.5\n", 8, 3 ; "cut at line ends")]
    #[test_case(b"1.1.1.1\n2.2.2.2\n3.3.3.3\n4.4.4.4\n5.5.5.5", 8, 3 ; "no final newline")]
    fn chunking(input: &[u8], min: usize, n: usize) {
        let pieces: Vec<&[u8]> = chunks(input, min).collect();
        assert_eq!(pieces.len(), n);
        assert_eq!(pieces.concat(), input);
        for p in &pieces[..pieces.len().saturating_sub(1)] {
            assert_eq!(p.last(), Some(&b'\n'));
        }
    }

    #[test]
    fn chunked_parse_equals_whole_parse() {
        let text: String = (0..5000u32)
            .map(|i| {
                format!(
                    "{}.{}.{}.0/{}\n",
                    i % 223 + 1,
                    i % 256,
                    (i * 7) % 256,
                    16 + i % 17
                )
            })
            .collect();
        let whole = IpSet::from_ranges(parse_bytes(text.as_bytes()).ranges);
        let pieces: Vec<(usize, &[u8])> = chunks(text.as_bytes(), 1000).map(|c| (0, c)).collect();
        assert!(pieces.len() > 10);
        let sets = parse_pieces(&pieces).into_iter().map(|(s, _)| s).collect();
        assert_eq!(union_all(sets), whole);
    }
}
