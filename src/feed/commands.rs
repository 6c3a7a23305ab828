//! `guardsync list build` and `guardsync list merge`. I/O: reads the files
//! named on the command line, writes results to stdout and warnings to stderr.
//!
//! `list merge` is the list engine as a standalone tool, output byte-identical
//! to `iprange FILE... --except FILE...` on well-formed IPv4 input. The
//! inputs are streamed: read in blocks cut at line ends, parsed on every core
//! as they arrive, and the list is written as it is rendered.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use super::aggregate::{self, Range};
use super::parse::{self, MAX_KEPT_REJECTS, Reject, RejectReason};
use super::{BuildSettings, BuiltList, FeedError, build};

/// Bytes read at a time from an input: one block per core is in flight.
/// Inputs up to this size are parsed on one thread.
const BLOCK: usize = 256 << 10;

/// About how many singles and ranges make one part of the list to render
/// (about 250 kB of output; one part per core is in memory).
const PART_ITEMS: usize = 16 << 10;

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
    merge_to(files, except, &mut io::stderr().lock(), &mut io::stdout())
}

/// Merge `files`, subtract `except`, and return the rendered list. Problems
/// with single lines are reported to `warnings` and skipped, like iprange.
pub fn merge(
    files: &[PathBuf],
    except: &[PathBuf],
    warnings: &mut impl Write,
) -> Result<Vec<u8>, FeedError> {
    let mut out = Vec::new();
    merge_to(files, except, warnings, &mut out)?;
    Ok(out)
}

/// [`merge`], writing the list to `out` as it is rendered. The inputs are
/// read in blocks and parsed on every core as they arrive; the list is
/// rendered in parts, on every core, and written in order. Memory is the
/// blocks in flight, the ranges (4 bytes a single address, 8 a range) and a
/// rendered part per core, never an input whole. A closed `out` (`| head`)
/// is not an error.
pub fn merge_to(
    files: &[PathBuf],
    except: &[PathBuf],
    warnings: &mut impl Write,
    out: &mut (impl Write + Send),
) -> Result<(), FeedError> {
    let plan = Plan {
        block: BLOCK,
        part_items: PART_ITEMS,
        workers: std::thread::available_parallelism().map_or(1, usize::from),
    };
    merge_planned(files, except, warnings, out, &plan)
}

/// How [`merge_to`] cuts its work (the tests make the pieces tiny).
struct Plan {
    /// Bytes read at a time.
    block: usize,
    /// Singles and ranges per rendered part.
    part_items: usize,
    /// Threads.
    workers: usize,
}

fn merge_planned(
    files: &[PathBuf],
    except: &[PathBuf],
    warnings: &mut impl Write,
    out: &mut (impl Write + Send),
    plan: &Plan,
) -> Result<(), FeedError> {
    let keep = load(files, warnings, plan.block, plan.workers)?;
    let except = if except.is_empty() {
        Vec::new()
    } else {
        let cut = load(except, warnings, plan.block, plan.workers)?;
        let mut ranges = Vec::new();
        aggregate::union_runs(&runs_of(&cut), |r| ranges.push(r));
        ranges
    };
    let runs = runs_of(&keep);
    let items: usize = keep.iter().map(|w| w.singles.len() + w.packed.len()).sum();
    let parts = aggregate::cut_runs(&runs, items.div_ceil(plan.part_items.max(1)));
    render_parts(&parts, &except, out, plan.workers)
}

/// Each thread's sorted singles and ranges, as runs to merge.
fn runs_of(work: &[Work]) -> Vec<aggregate::Run<'_>> {
    work.iter()
        .flat_map(|w| {
            [
                aggregate::Run::Singles(&w.singles),
                aggregate::Run::Packed(&w.packed),
            ]
        })
        .collect()
}

/// Render the parts of the list on `workers` threads, each part into its
/// thread's buffer, and write them in order: a thread that finishes a part
/// before the parts ahead of it are written waits for its turn.
fn render_parts(
    parts: &[Vec<aggregate::Run<'_>>],
    except: &[Range],
    out: &mut (impl Write + Send),
    workers: usize,
) -> Result<(), FeedError> {
    let turn = Mutex::new(Turn {
        next: 0,
        out,
        closed: false,
        failed: None,
    });
    let written = Condvar::new();
    let taken = AtomicUsize::new(0);
    let render = || {
        let mut buf = Vec::new();
        loop {
            let p = taken.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(p) else { break };
            buf.clear();
            render_part(part, except, &mut buf);
            let mut t = turn.lock().unwrap_or_else(PoisonError::into_inner);
            while t.next != p {
                t = written.wait(t).unwrap_or_else(PoisonError::into_inner);
            }
            t.write(&buf);
            t.next += 1;
            written.notify_all();
        }
    };
    let workers = workers.min(parts.len());
    if workers <= 1 {
        render();
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..workers).map(|_| scope.spawn(render)).collect();
            render();
            for h in handles {
                if let Err(panic) = h.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
    turn.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .finish()
}

/// One part of the list: the union of its runs, minus `except`, rendered.
fn render_part(runs: &[aggregate::Run<'_>], except: &[Range], buf: &mut Vec<u8>) {
    if except.is_empty() {
        aggregate::union_runs(runs, |r| aggregate::push_range(buf, r));
        return;
    }
    let mut from = None;
    aggregate::union_runs(runs, |r| {
        let from = from.get_or_insert_with(|| except.partition_point(|c| c.hi < r.lo));
        aggregate::subtract(r, except, from, |piece| aggregate::push_range(buf, piece));
    });
}

/// Whose turn it is to write, and the output.
struct Turn<'a, W: Write> {
    /// The part to write next.
    next: usize,
    out: &'a mut W,
    /// The output failed or was closed: nothing more is written.
    closed: bool,
    /// The first write error; a closed pipe stops the writing quietly.
    failed: Option<io::Error>,
}

impl<W: Write> Turn<'_, W> {
    fn write(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        if let Err(e) = self.out.write_all(bytes) {
            self.closed = true;
            if e.kind() != io::ErrorKind::BrokenPipe {
                self.failed = Some(e);
            }
        }
    }

    fn finish(mut self) -> Result<(), FeedError> {
        if !self.closed
            && let Err(e) = self.out.flush()
            && e.kind() != io::ErrorKind::BrokenPipe
        {
            self.failed = Some(e);
        }
        self.failed.map_or(Ok(()), |e| Err(FeedError::Stdout(e)))
    }
}

/// Read, parse and aggregate a group of files ('-' is stdin) in blocks of
/// `block` bytes on `workers` threads: per thread, its sorted singles and
/// ranges. Warnings are written once every file has been read, per file,
/// in order.
fn load(
    files: &[PathBuf],
    warnings: &mut impl Write,
    block: usize,
    workers: usize,
) -> Result<Vec<Work>, FeedError> {
    // Sizes only plan the work (threads, capacity); the reads say what is there.
    let mut known = 0u64;
    let mut stdin = false;
    for path in files {
        if path == Path::new("-") {
            stdin = true;
        } else if let Ok(m) = std::fs::metadata(path) {
            known += m.len();
        }
    }
    let workers = if stdin || known > block as u64 {
        workers
    } else {
        1
    };
    // At most one address per 8 bytes ("1.2.3.4\n"), one range per 10
    // ("1.0.0.0/8\n"). Reserved, not touched: pages never filled cost no
    // memory.
    let capacity = if stdin {
        (block / 8, block / 10)
    } else {
        let n = usize::try_from(known).unwrap_or(usize::MAX);
        (n / 8 + 1, n / 10 + 1)
    };
    let feeder = Mutex::new(Feeder::new(files, block));
    let mut done: Vec<Work> = Vec::with_capacity(workers);
    std::thread::scope(|scope| {
        let feeder = &feeder;
        let handles: Vec<_> = (1..workers)
            .map(|_| scope.spawn(move || work(feeder, capacity)))
            .collect();
        done.push(work(feeder, capacity));
        for h in handles {
            // A worker only panics if the parser does, which the fuzz tests
            // rule out; re-raise it rather than lose input silently.
            match h.join() {
                Ok(w) => done.push(w),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    let feeder = feeder.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = feeder.error {
        return Err(e);
    }
    let mut blocks: Vec<BlockReport> = done
        .iter_mut()
        .flat_map(|w| std::mem::take(&mut w.blocks))
        .collect();
    blocks.sort_unstable_by_key(|b| b.seq);
    report(files, &blocks, warnings);
    Ok(done)
}

/// Per file, in order: the first rejected lines with their line numbers, then
/// how many more were skipped and how many IPv6 entries were ignored.
fn report(files: &[PathBuf], blocks: &[BlockReport], warnings: &mut impl Write) {
    // (line offset, rejects shown, more skipped, IPv6) per file.
    let mut per_file: Vec<(u64, usize, u64, u64)> = vec![(0, 0, 0, 0); files.len()];
    for b in blocks {
        let name = files[b.file].display();
        let (offset, shown, more, ipv6) = &mut per_file[b.file];
        for r in &b.rejects {
            if *shown < MAX_KEPT_REJECTS {
                let _ = writeln!(
                    warnings,
                    "guardsync: {name}:{}: skipped: {}: {:?}",
                    r.line + *offset,
                    r.reason,
                    r.text
                );
                *shown += 1;
            } else {
                *more += 1;
            }
        }
        *more += b.rejected - b.rejects.len() as u64;
        *ipv6 += b.ipv6;
        *offset += b.lines;
    }
    for (file, (_, _, more, ipv6)) in per_file.iter().enumerate() {
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
}

/// What one thread read: its single addresses and its ranges, each sorted
/// and merged, and per block what was dropped.
struct Work {
    singles: Vec<u32>,
    packed: Vec<u64>,
    blocks: Vec<BlockReport>,
}

/// What was dropped in one block; line numbers count from the block's start.
struct BlockReport {
    /// The block's place in the input, over all files.
    seq: usize,
    file: usize,
    lines: u64,
    rejects: Vec<Reject>,
    rejected: u64,
    ipv6: u64,
}

/// Take blocks from `feeder` until the input is exhausted, parse each, then
/// sort and merge what was read.
fn work(feeder: &Mutex<Feeder<'_>>, (singles, ranges): (usize, usize)) -> Work {
    let mut sink = KeySink {
        singles: Vec::with_capacity(singles),
        packed: Vec::with_capacity(ranges),
        rejects: Vec::new(),
        rejected: 0,
        ipv6: 0,
    };
    let mut blocks = Vec::new();
    let mut buf = Vec::new();
    loop {
        let next = feeder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next(&mut buf);
        let Some((file, seq, len)) = next else { break };
        let lines = parse::scan(&buf[..len], &mut sink);
        blocks.push(BlockReport {
            seq,
            file,
            lines,
            rejects: std::mem::take(&mut sink.rejects),
            rejected: std::mem::take(&mut sink.rejected),
            ipv6: std::mem::take(&mut sink.ipv6),
        });
    }
    drop(buf);
    let KeySink {
        mut singles,
        mut packed,
        ..
    } = sink;
    aggregate::aggregate_singles(&mut singles);
    aggregate::aggregate_packed(&mut packed);
    Work {
        singles,
        packed,
        blocks,
    }
}

/// [`parse::scan`]'s sink for `list merge`: single addresses apart (half the
/// memory, a faster sort), ranges packed, and the current block's rejects and
/// IPv6 entries. Comments and header dates do not matter here.
struct KeySink {
    singles: Vec<u32>,
    packed: Vec<u64>,
    rejects: Vec<Reject>,
    rejected: u64,
    ipv6: u64,
}

impl parse::Sink for KeySink {
    #[inline]
    fn entry(&mut self, range: Range, _host_bits: bool, _line: u64) {
        if range.lo == range.hi {
            self.singles.push(range.lo);
        } else {
            self.packed.push(aggregate::pack(range));
        }
    }

    fn comment(&mut self, _text: &[u8]) {}

    fn ipv6(&mut self) {
        self.ipv6 += 1;
    }

    fn reject(&mut self, reason: RejectReason, text: &[u8], line: u64) {
        self.rejected += 1;
        if self.rejects.len() < MAX_KEPT_REJECTS {
            self.rejects.push(Reject {
                line,
                text: parse::reject_text(text),
                reason,
            });
        }
    }
}

/// The inputs, handed out a block at a time: whole lines of one file, in
/// order. Shared by the threads behind a mutex; a block is read while the
/// other threads parse theirs.
struct Feeder<'a> {
    paths: &'a [PathBuf],
    /// How many bytes to read at a time.
    block: usize,
    /// The file being read, and its handle once open.
    file: usize,
    source: Option<Source>,
    /// The unfinished last line of the previous block.
    carry: Vec<u8>,
    /// Blocks handed out so far.
    seq: usize,
    /// The first read error: every thread stops.
    error: Option<FeedError>,
}

impl<'a> Feeder<'a> {
    fn new(paths: &'a [PathBuf], block: usize) -> Self {
        Feeder {
            paths,
            block,
            file: 0,
            source: None,
            carry: Vec::new(),
            seq: 0,
            error: None,
        }
    }

    /// Fill `buf` with the next block: `(file, seq, length)`, or `None` once
    /// every file has been read or one could not be.
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(usize, usize, usize)> {
        while self.error.is_none() && self.file < self.paths.len() {
            let file = self.file;
            match self.fill(buf) {
                Ok(0) => {}
                Ok(len) => {
                    self.seq += 1;
                    return Some((file, self.seq - 1, len));
                }
                Err(source) => {
                    self.error = Some(FeedError::Read {
                        path: self.paths[file].display().to_string(),
                        source,
                    });
                }
            }
        }
        None
    }

    /// Read about `block` bytes of the current file into `buf`, the carried
    /// line first; returns how many bytes up to the last line end (all of
    /// them at the end of the file), and carries the rest.
    fn fill(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let source = match &mut self.source {
            Some(s) => s,
            None => self.source.insert(Source::open(&self.paths[self.file])?),
        };
        let mut filled = self.carry.len();
        let want = self.block.max(filled * 2);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let cut = loop {
            if filled == buf.len() {
                match buf.iter().rposition(|&b| b == b'\n') {
                    Some(i) => break i + 1,
                    // One line longer than the block: read on.
                    None => buf.resize(buf.len() * 2, 0),
                }
            }
            match source.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.source = None;
                    self.file += 1;
                    break filled;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.carry.extend_from_slice(&buf[cut..filled]);
        Ok(cut)
    }
}

/// An input: a file, or stdin for '-'.
enum Source {
    File(std::fs::File),
    Stdin(io::Stdin),
}

impl Source {
    fn open(path: &Path) -> io::Result<Source> {
        if path == Path::new("-") {
            Ok(Source::Stdin(io::stdin()))
        } else {
            std::fs::File::open(path).map(Source::File)
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
            Source::Stdin(s) => s.read(buf),
        }
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
    use crate::feed::aggregate::IpSet;
    use crate::feed::parse::parse_bytes;
    use test_case::test_case;

    fn files(dir: &Path, texts: &[&str]) -> Vec<PathBuf> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let p = dir.join(format!("in{i}"));
                std::fs::write(&p, t).expect("write a temp file");
                p
            })
            .collect()
    }

    fn union(work: &[Work]) -> IpSet {
        let mut ranges = Vec::new();
        aggregate::union_runs(&runs_of(work), |r| ranges.push(r));
        IpSet::from_canonical(ranges)
    }

    fn load_in_blocks(
        files: &[PathBuf],
        warnings: &mut impl Write,
        block: usize,
    ) -> Result<Vec<Work>, FeedError> {
        load(files, warnings, block, 2)
    }

    /// Whatever the block size, the same set and the same warnings as one
    /// whole parse: lines cut by a block end are carried to the next block,
    /// lines longer than a block are read whole, line numbers run on.
    #[test_case(1 ; "one byte")]
    #[test_case(3 ; "shorter than a line")]
    #[test_case(16 ; "two lines")]
    #[test_case(1 << 20 ; "one block")]
    fn blocks_of_any_size_read_the_same(block: usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut big: String = (0..3000u32)
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
        big.push_str("bogus\n::1\n1.2.3\n9.9.9.9 - 9.9.10.1 # range\n");
        for i in 0..30 {
            big.push_str(&format!("x{i}\n"));
        }
        big.push_str("8.8.8.8");
        let texts = [
            big.as_str(),
            "",
            "\n\n# only comments\n",
            "7.7.7.7\r\n010.0.0.1",
        ];
        let paths = files(dir.path(), &texts);
        let mut want_warnings = Vec::new();
        let want = union(&load_in_blocks(&paths, &mut want_warnings, 1 << 30).expect("reads"));
        let whole = IpSet::from_ranges(
            texts
                .iter()
                .flat_map(|t| parse_bytes(t.as_bytes()).ranges)
                .collect(),
        );
        assert_eq!(want, whole);
        let mut warnings = Vec::new();
        let got = union(&load_in_blocks(&paths, &mut warnings, block).expect("reads"));
        assert_eq!(got, whole);
        let warnings = String::from_utf8(warnings).expect("utf-8");
        assert_eq!(warnings, String::from_utf8(want_warnings).expect("utf-8"));
        let name = paths[0].display();
        assert!(
            warnings.contains(&format!("{name}:3001: skipped: not an IPv4")),
            "{warnings}"
        );
        assert!(
            warnings.contains(&format!("{name}: 12 more lines skipped")),
            "{warnings}"
        );
        assert!(
            warnings.contains(&format!("{name}: 1 IPv6 entries ignored")),
            "{warnings}"
        );
        assert!(
            warnings.contains(&format!(
                "{}:2: skipped: octet with a leading zero",
                paths[3].display()
            )),
            "{warnings}"
        );
    }

    /// Cut in parts of any size, rendered on several threads, with or
    /// without exceptions: the bytes of the whole set rendered at once.
    #[test_case(1, 1 ; "one part per item")]
    #[test_case(7, 2 ; "small parts")]
    #[test_case(1 << 20, 2 ; "one part")]
    #[test_case(5, 1 ; "one thread")]
    fn parts_render_the_whole(part_items: usize, workers: usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let text: String = (0..4000u32)
            .map(|i| {
                let a = i.wrapping_mul(2_654_435_761) % 4096;
                match i % 4 {
                    0 => format!("10.0.{}.{}\n", a / 256, a % 256),
                    1 => format!("10.0.{}.{}/{}\n", a / 256, a % 256, 22 + i % 11),
                    2 => format!("10.0.{}.0 - 10.0.{}.9\n", a / 256, (a / 256 + 1) % 16),
                    _ => format!("255.255.255.{}\n", a % 256),
                }
            })
            .collect();
        let at = text[text.len() / 3 * 2..].find('\n').expect("a line") + text.len() / 3 * 2;
        let (keep, cut) = text.split_at(at + 1);
        let paths = files(dir.path(), &[keep, "0.0.0.0\n", cut]);
        let whole = |t: &str| IpSet::from_ranges(parse_bytes(t.as_bytes()).ranges);
        let all = whole(keep).difference(&IpSet::new()).render();
        let minus = whole(&format!("{keep}0.0.0.0\n"))
            .difference(&whole(cut))
            .render();
        let plan = Plan {
            block: 64,
            part_items,
            workers,
        };
        for (files, except, want) in [
            (&paths[..1], &[][..], all),
            (&paths[..2], &paths[2..], minus),
        ] {
            let mut out = Vec::new();
            merge_planned(files, except, &mut Vec::new(), &mut out, &plan).expect("merges");
            assert!(
                out == want,
                "{:?} vs {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            );
        }
    }

    #[test]
    fn a_read_error_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths = files(dir.path(), &["1.2.3.4\n"]);
        paths.push(dir.path().to_owned());
        let Err(e) = load_in_blocks(&paths, &mut Vec::new(), 4) else {
            panic!("a directory is not a list");
        };
        assert!(
            e.to_string()
                .starts_with(&format!("failed to read {}: ", dir.path().display())),
            "{e}"
        );
    }

    #[test]
    fn a_closed_pipe_is_not_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = files(dir.path(), &["1.2.3.4\n"]);
        merge_to(&paths, &[], &mut Vec::new(), &mut Closed).expect("not an error");
    }
}
