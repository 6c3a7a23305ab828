//! The engine at organization scale (issue #7): one `plan` or `apply` over the
//! in-process synthetic organization of `guardsync::sim` (10,000 accounts ×
//! 34 Regions by default), through the same discovery, waves and fan-out as
//! a real run, then (apply) the run record and the JSON and text reports, as
//! a real run makes them. Prints one JSON line: the process's CPU time
//! (user + system, /proc/self/stat), its peak resident memory (VmHWM), the
//! wall time, the targets in the report and the calls made.
//!
//! One scenario per process, so that each peak is its own:
//!
//! ```text
//! cargo bench --bench scale -- --accounts 10000 --regions 34 --mode plan
//! ```
//!
//! Options: `--accounts N`, `--regions N` (1-34), `--mode plan|apply`,
//! `--baseline converged|outdated|empty`, `--probe needed|all`,
//! `--latency-ms N` (per call, default 1), `--concurrency N` (default 64),
//! `--rules N` (suppression rules, default 2), `--standalone-percent N`
//! (default 10), `--no-detector-percent N` (default 5),
//! `--denied-roles-percent N` (accounts whose member role cannot be assumed,
//! among the standalone ones; default 0), `--html FILE`: also render the
//! report as the HTML page of `guardsync report --html` (its own time and
//! size, `html` in the output, after every other figure is taken) and write
//! it to FILE; `--json FILE`: also write the JSON report to FILE (after
//! every figure is taken), for `guardsync report --html --from FILE`;
//! `--calls FILE`: also write every call of the run, one JSON object a line
//! (operation, account, Region, start and end in milliseconds), to see where
//! the wall time goes.
//! `scripts/bench-scale` runs the table of docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use guardsync::publish::record::RunRecord;
use guardsync::report::{self, Mode};
use guardsync::sim::{self, Baseline, Shape, Synthetic};

struct Args {
    accounts: usize,
    regions: usize,
    mode: Mode,
    baseline: Baseline,
    probe: String,
    latency_ms: u64,
    concurrency: u32,
    rules: usize,
    standalone_percent: usize,
    no_detector_percent: usize,
    denied_roles_percent: usize,
    html: Option<std::path::PathBuf>,
    json: Option<std::path::PathBuf>,
    calls: Option<std::path::PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        accounts: 10_000,
        regions: 34,
        mode: Mode::Plan,
        baseline: Baseline::Converged,
        probe: "needed".into(),
        latency_ms: 1,
        concurrency: 64,
        rules: 2,
        standalone_percent: 10,
        no_detector_percent: 5,
        denied_roles_percent: 0,
        html: None,
        json: None,
        calls: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--bench" {
            continue; // cargo bench passes it
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--accounts" => a.accounts = num(&value)?,
            "--regions" => a.regions = num(&value)?,
            "--latency-ms" => a.latency_ms = num(&value)? as u64,
            "--concurrency" => a.concurrency = num(&value)? as u32,
            "--rules" => a.rules = num(&value)?,
            "--standalone-percent" => a.standalone_percent = num(&value)?,
            "--no-detector-percent" => a.no_detector_percent = num(&value)?,
            "--denied-roles-percent" => a.denied_roles_percent = num(&value)?,
            "--html" => a.html = Some(value.into()),
            "--json" => a.json = Some(value.into()),
            "--calls" => a.calls = Some(value.into()),
            "--probe" => a.probe = value,
            "--mode" => {
                a.mode = match value.as_str() {
                    "plan" => Mode::Plan,
                    "apply" => Mode::Apply,
                    v => return Err(format!("--mode {v}: plan or apply")),
                }
            }
            "--baseline" => {
                a.baseline = match value.as_str() {
                    "converged" => Baseline::Converged,
                    "outdated" => Baseline::Outdated,
                    "empty" => Baseline::Empty,
                    v => return Err(format!("--baseline {v}: converged, outdated or empty")),
                }
            }
            f => return Err(format!("unknown option {f}")),
        }
    }
    Ok(a)
}

/// User + system CPU time of this process so far (/proc/self/stat, in
/// clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of this process, in MiB (VmHWM).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Counts the bytes written to it, and keeps none (stdout, as a run streams it).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("scale: {e}");
            std::process::exit(2);
        }
    };
    let regions: Vec<_> = guardsync::config::regions::GUARDDUTY_REGIONS
        .iter()
        .take(a.regions.clamp(1, 34))
        .filter_map(|r| guardsync::config::Region::parse(r).ok())
        .collect();
    let config = sim::config(&regions, a.concurrency, &a.probe, a.rules);
    let shape = Shape {
        accounts: a.accounts,
        regions: a.regions,
        standalone_percent: a.standalone_percent,
        no_detector_percent: a.no_detector_percent,
        baseline: a.baseline,
        latency: Duration::from_millis(a.latency_ms),
        fail_listing_at_page: None,
        denied_roles_percent: a.denied_roles_percent,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sim = Synthetic::new(shape, &config);
    // The log lines a scheduled run writes (stderr at the default level, no
    // terminal, as `guardsync` installs them), to a sink.
    guardsync::logs::init(
        tracing_subscriber::EnvFilter::new("warn,aws_config=error,guardsync=info"),
        std::io::sink,
        false,
    );
    if a.calls.is_some() {
        sim.log_calls();
    }
    let (cpu0, wall0) = (cpu(), Instant::now());
    let report = runtime
        .block_on(sim::run(&sim, &config, a.mode))
        .expect("run");
    let peak_after_run = peak_mib();
    let cpu_run = cpu();
    // What a run does with the report, in a run's order: for an apply, the
    // run record it writes to S3 (built, uploaded and dropped before the
    // report is printed); then the report on stdout, as JSON or as text
    // (both here, each measured on its own and each dropped once written).
    let record_bytes = if a.mode == Mode::Apply {
        RunRecord::json_of(
            &report,
            &guardsync::publish::record::RecordLists {
                lists: vec![guardsync::publish::record::RecordList {
                    key: "guardduty/list.txt".into(),
                    ..Default::default()
                }],
                trusted: None,
            },
            std::time::SystemTime::now(),
        )
        .len()
    } else {
        0
    };
    let cpu_record = cpu();
    let mut json = Counter(0);
    report.write_json(&mut json).expect("json");
    let cpu_json = cpu();
    let text_bytes = report::text::render(&report, report::text::Style::Plain).len();
    let (cpu1, wall1) = (cpu(), Instant::now());
    if let Some(path) = &a.calls {
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(path).expect("create the call log"));
        for c in sim.logged_calls() {
            serde_json::to_writer(&mut out, &c).expect("write the call log");
            std::io::Write::write_all(&mut out, b"\n").expect("write the call log");
        }
    }
    let total_calls: u64 = report.calls.values().map(|c| c.calls).sum();
    let peak = peak_mib();
    // The HTML page of `guardsync report --html`, from the same report:
    // the view (what the page reads) and the page, timed on their own.
    let html = a.html.as_ref().map(|path| {
        let (cpu0, wall0) = (cpu(), Instant::now());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let view = report::html::View::from_report(
            &report,
            "the simulated organization (benches/scale.rs)".into(),
            report::html::When::Finished(now),
            now,
        );
        let page = report::html::render(&view);
        let (cpu1, wall1) = (cpu(), Instant::now());
        std::fs::write(path, &page).expect("write the page");
        serde_json::json!({
            "file": path.display().to_string(),
            "bytes": page.len(),
            "cpu_s": (cpu1 - cpu0).as_secs_f64(),
            "wall_s": (wall1 - wall0).as_secs_f64(),
            "peak_mib": peak_mib(),
        })
    });
    if let Some(path) = &a.json {
        let file = std::fs::File::create(path).expect("create the JSON report");
        report
            .write_json(std::io::BufWriter::new(file))
            .expect("write the JSON report");
    }
    println!(
        "{}",
        serde_json::json!({
            "accounts": a.accounts,
            "regions": a.regions,
            "mode": a.mode.as_str(),
            "baseline": format!("{:?}", a.baseline).to_lowercase(),
            "probe": a.probe,
            "latency_ms": a.latency_ms,
            "concurrency": a.concurrency,
            "targets": report.targets.len(),
            "expected_targets": a.accounts * regions.len(),
            "summary": report.summary,
            "calls": total_calls,
            "calls_by_operation": report
                .calls
                .iter()
                .map(|(k, c)| (k.clone(), c.calls))
                .collect::<std::collections::BTreeMap<_, _>>(),
            "cpu_s": (cpu1 - cpu0).as_secs_f64(),
            "simulated_aws_cpu_s": sim.busy().as_secs_f64(),
            "guardsync_cpu_s": (cpu1 - cpu0).saturating_sub(sim.busy()).as_secs_f64(),
            // Where guardsync's own CPU went: the fan-out (less the
            // simulated AWS), the JSON report, the text report, the run record.
            "cpu_phases_s": {
                "fan_out": (cpu_run - cpu0).saturating_sub(sim.busy()).as_secs_f64(),
                "record": (cpu_record - cpu_run).as_secs_f64(),
                "json": (cpu_json - cpu_record).as_secs_f64(),
                "text": (cpu1 - cpu_json).as_secs_f64(),
            },
            "wall_s": (wall1 - wall0).as_secs_f64(),
            "peak_mib": peak,
            "peak_mib_fan_out": peak_after_run,
            "json_bytes": json.0,
            "text_bytes": text_bytes,
            "record_bytes": record_bytes,
            "html": html,
        })
    );
}
