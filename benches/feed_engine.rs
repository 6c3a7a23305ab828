//! Criterion bench of the in-process list engine: parse, aggregate, subtract
//! and render, without process start-up or file I/O. `scripts/bench-merge`
//! times whole processes against iprange; this isolates the engine.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use guardsync::feed::aggregate::IpSet;
use guardsync::feed::hygiene;
use guardsync::feed::parse::parse_bytes;

/// Synthetic input shaped like `gen_synthetic.py`'s default: a million random
/// addresses and 100,000 random CIDRs (/8-/32 weighted to long prefixes), in
/// random order. xorshift64*, so every run measures the same bytes.
fn synthetic(ips: usize, cidrs: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut lines: Vec<String> = Vec::with_capacity(ips + cidrs);
    for _ in 0..ips {
        lines.push(format!(
            "{}\n",
            std::net::Ipv4Addr::from((next() >> 32) as u32)
        ));
    }
    for _ in 0..cidrs {
        let len = 16 + (next() % 17) as u32;
        let addr = ((next() >> 32) as u32) & (u32::MAX << (32 - len));
        lines.push(format!("{}/{len}\n", std::net::Ipv4Addr::from(addr)));
    }
    for i in (1..lines.len()).rev() {
        lines.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    lines.concat().into_bytes()
}

fn fixtures() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/firehol");
    let mut all = Vec::new();
    for name in [
        "firehol_level1.netset",
        "firehol_level2.netset",
        "firehol_webclient.netset",
        "blocklist_de.ipset",
    ] {
        all.extend(std::fs::read(dir.join(name)).expect("fixture"));
    }
    all
}

fn engine(c: &mut Criterion) {
    let inputs = [
        ("synthetic_1.1M", synthetic(1_000_000, 100_000)),
        ("firehol_fixtures", fixtures()),
    ];
    let mut g = c.benchmark_group("engine");
    g.sample_size(20);
    for (name, bytes) in &inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| parse_bytes(black_box(bytes)))
        });
        let ranges = parse_bytes(bytes).ranges;
        g.bench_function(format!("aggregate/{name}"), |b| {
            b.iter(|| IpSet::from_ranges(black_box(ranges.clone())))
        });
        let set = IpSet::from_ranges(ranges);
        let reserved = hygiene::reserved();
        g.bench_function(format!("difference_reserved/{name}"), |b| {
            b.iter(|| black_box(&set).difference(&reserved))
        });
        g.bench_function(format!("render/{name}"), |b| {
            b.iter(|| black_box(&set).render())
        });
        g.bench_function(format!("end_to_end/{name}"), |b| {
            b.iter(|| IpSet::from_ranges(parse_bytes(black_box(bytes)).ranges).render())
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
