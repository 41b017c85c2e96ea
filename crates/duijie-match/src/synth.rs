//! Deterministic synthetic instances (tests, benchmarks, demos) and the tiny PRNG behind them.

use crate::model::{Instance, Party, ScoreEntry};

/// SplitMix64: a small, fast, seedable PRNG (not for cryptography).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` if `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

/// Shape of a synthetic instance.
#[derive(Debug, Clone)]
pub struct SynthParams {
    /// Number of enterprises.
    pub enterprises: usize,
    /// Number of results.
    pub results: usize,
    /// Distinct candidate results per enterprise (all results if ≥ `results`).
    pub candidates: usize,
    /// Enterprise capacities, uniform in this inclusive range.
    pub enterprise_capacity: (i64, i64),
    /// Result capacities, uniform in this inclusive range.
    pub result_capacity: (i64, i64),
    /// Time slots.
    pub slots: i64,
    /// Tables.
    pub tables: i64,
    /// PRNG seed.
    pub seed: u64,
}

/// A synthetic market: results have a skewed popularity (a few are candidates of many
/// enterprises) and a quality; scores are skewed towards low values (Beta(1,3)-like affinity
/// mixed with quality) and rounded to 1e-6, in `[0, 1]`. Ids are `e{i}` and `r{j}`.
pub fn synthetic_instance(p: &SynthParams) -> Instance {
    let mut rng = SplitMix64::new(p.seed);
    let enterprises = (0..p.enterprises)
        .map(|i| Party {
            id: format!("e{i}"),
            capacity: rng.range(p.enterprise_capacity.0, p.enterprise_capacity.1),
        })
        .collect();
    let results: Vec<Party> = (0..p.results)
        .map(|j| Party {
            id: format!("r{j}"),
            capacity: rng.range(p.result_capacity.0, p.result_capacity.1),
        })
        .collect();
    let quality: Vec<f64> = (0..p.results).map(|_| rng.next_f64()).collect();
    let mut scores = Vec::new();
    let mut mark = vec![usize::MAX; p.results];
    let mut picks = Vec::new();
    for i in 0..p.enterprises {
        picks.clear();
        if p.candidates >= p.results {
            picks.extend(0..p.results);
        } else {
            while picks.len() < p.candidates {
                // Popularity skew: low indices are drawn more often.
                let u = rng.next_f64();
                let j = ((u * u * 0.7 + u * 0.3) * p.results as f64) as usize;
                let j = j.min(p.results - 1);
                if mark[j] != i {
                    mark[j] = i;
                    picks.push(j);
                }
            }
        }
        for &j in &picks {
            let affinity = 1.0 - (1.0 - rng.next_f64()).cbrt();
            let s = (0.75 * affinity + 0.25 * quality[j] * affinity.sqrt()).clamp(0.0, 1.0);
            scores.push(ScoreEntry {
                enterprise: format!("e{i}"),
                result: format!("r{j}"),
                score: (s * 1e6).round() / 1e6,
            });
        }
    }
    Instance {
        enterprises,
        results,
        scores,
        forbidden: Vec::new(),
        forced: Vec::new(),
        min_score: 0.0,
        slots: p.slots,
        tables: p.tables,
        groups: Vec::new(),
    }
}
