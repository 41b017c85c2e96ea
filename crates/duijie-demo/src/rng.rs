//! A tiny deterministic pseudo-random generator (SplitMix64) and helpers built on it.

/// SplitMix64 generator: small, fast, and good enough to vary demo text.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// Creates a generator from a seed; the same seed always yields the same sequence.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of a non-empty list of strings.
    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    /// Index chosen with the given weights (at least one weight must be positive).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut roll = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `k` distinct elements (or all of them if there are fewer), in random order.
    pub fn sample<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut all: Vec<T> = items.to_vec();
        self.shuffle(&mut all);
        all.truncate(k);
        all
    }

    /// A string of `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Replaces every `{a-b}` in `template` by a random number between `a` and `b`.
///
/// The number of decimals printed is the larger number of decimals of the two bounds,
/// so `{1.5-3.0}` gives e.g. `2.3` and `{20-40}` gives e.g. `27`.
pub fn fill(template: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &after[..close];
        match render_range(spec, rng) {
            Some(text) => out.push_str(&text),
            None => {
                out.push('{');
                out.push_str(spec);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn render_range(spec: &str, rng: &mut Rng) -> Option<String> {
    let (lo, hi) = spec.split_once('-')?;
    let decimals = |s: &str| s.split_once('.').map_or(0, |(_, d)| d.len());
    let places = decimals(lo).max(decimals(hi));
    let scale = 10_i64.pow(places as u32);
    let parse = |s: &str| -> Option<i64> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let mut frac = frac.to_string();
        while frac.len() < places {
            frac.push('0');
        }
        let int: i64 = int.trim().parse().ok()?;
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        Some(int * scale + frac)
    };
    let (a, b) = (parse(lo)?, parse(hi)?);
    let (a, b) = (a.min(b), a.max(b));
    let mut v = rng.range(a, b);
    if places == 0 {
        // Wide integer ranges give round numbers, as people write them.
        let step = match b - a {
            10_000.. => 1000,
            2000.. => 100,
            200.. => 10,
            _ => 1,
        };
        v = (v + step / 2) / step * step;
        if v > b {
            v -= step;
        }
        if v < a {
            v += step;
        }
        Some(v.to_string())
    } else {
        Some(format!(
            "{}.{:0width$}",
            v / scale,
            v % scale,
            width = places
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_ranges() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let s = fill("效率提高{8-15}%，能耗{1.5-2.5}kWh", &mut rng);
            assert!(!s.contains('{'), "{s}");
            let n: i64 = s["效率提高".len()..s.find('%').unwrap()].parse().unwrap();
            assert!((8..=15).contains(&n), "{s}");
            let d = &s[s.find("能耗").unwrap() + "能耗".len()..s.find("kWh").unwrap()];
            let v: f64 = d.parse().unwrap();
            assert!((1.5..=2.5).contains(&v) && d.len() == 3, "{s}");
        }
    }

    #[test]
    fn wide_ranges_give_round_numbers() {
        let mut rng = Rng::new(11);
        for _ in 0..200 {
            let n: i64 = fill("{1000-3000}", &mut rng).parse().unwrap();
            assert!((1000..=3000).contains(&n) && n % 100 == 0, "{n}");
            let n: i64 = fill("{205-480}", &mut rng).parse().unwrap();
            assert!((205..=480).contains(&n) && n % 10 == 0, "{n}");
        }
    }

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
