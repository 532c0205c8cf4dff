//! What the benches share: the interleaved run that judges the ratios, and
//! reading and writing the medians criterion and that run produce.

use std::path::Path;
use std::time::Instant;

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
