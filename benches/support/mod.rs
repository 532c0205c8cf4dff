//! What the benches share: the interleaved run that judges the ratios, and
//! reading and writing the medians criterion and that run produce.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;

/// The runtime every bench runs on: one worker, as a request handler has.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// What [`measure`] found for a group.
pub struct Measured<const N: usize> {
    /// Criterion's output folder of the group.
    pub dir: PathBuf,
    /// The interleaved run's median of each variant, in nanoseconds.
    pub interleaved: [f64; N],
    /// The rounds of the interleaved run.
    pub rounds: usize,
}

/// Runs the group `name` of `variants` through criterion (one after the
/// other, `measurement` and `warm_up` each), then the interleaved run of
/// [`rounds`]`(default_rounds)` rounds, which judges the ratios.
pub fn measure<const N: usize, Fut: Future<Output = ()>>(
    runtime: &tokio::runtime::Runtime,
    name: &str,
    variants: [&'static str; N],
    (measurement, warm_up): (Duration, Duration),
    default_rounds: usize,
    run: impl Fn(&'static str) -> Fut,
) -> Measured<N> {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let mut c = Criterion::default()
        .output_directory(&out)
        .measurement_time(measurement)
        .warm_up_time(warm_up)
        .configure_from_args();
    let mut group = c.benchmark_group(name);
    for variant in variants {
        group.bench_function(variant, |b| b.to_async(runtime).iter(|| run(variant)));
    }
    group.finish();
    c.final_summary();
    let rounds = rounds(default_rounds);
    let interleaved = runtime.block_on(interleaved_medians(variants, rounds, async |v| {
        run(v).await
    }));
    Measured {
        dir: out.join(name),
        interleaved,
        rounds,
    }
}

/// `BENCH_ROUNDS`, or `default`: the rounds of the interleaved run.
pub fn rounds(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// Runs `rounds` rounds of every variant (rotating which goes first, so
/// the machine's drift falls on all of them alike) and returns each
/// variant's median time in nanoseconds.
pub async fn interleaved_medians<const N: usize>(
    variants: [&'static str; N],
    rounds: usize,
    run: impl AsyncFn(&'static str),
) -> [f64; N] {
    let mut times: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    for round in 0..rounds {
        for k in 0..N {
            let i = (round + k) % N;
            let start = Instant::now();
            run(variants[i]).await;
            times[i].push(start.elapsed().as_nanos() as f64);
        }
    }
    times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
    })
}

/// Criterion's median of each variant of the group in `dir` (NaN where
/// criterion did not run it, as with a filter that skips it).
pub fn criterion_medians<const N: usize>(dir: &Path, variants: [&'static str; N]) -> [f64; N] {
    variants.map(|name| {
        let text = std::fs::read_to_string(dir.join(name).join("new/estimates.json")).ok();
        let json: Option<serde_json::Value> = text.and_then(|t| serde_json::from_str(&t).ok());
        json.and_then(|j| j["median"]["point_estimate"].as_f64())
            .unwrap_or(f64::NAN)
    })
}

/// Stores the ratios next to criterion's output (`<dir>/ratios.json`).
pub fn write_ratios(dir: &Path, ratios: &serde_json::Value) {
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(
        dir.join("ratios.json"),
        serde_json::to_string_pretty(ratios).unwrap_or_default(),
    );
}
