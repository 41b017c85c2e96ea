//! Nearest neighbours in the semantic space: stage 1's second source of candidates.
//!
//! The index's BM25 disjunction only finds listings that share one of the source's salient
//! terms. A listing on the same topic in other words is found here instead: by the cosine of
//! the semantic vectors ([`super::corpus::semantic`]), among the listings of one kind.
//!
//! Up to [`EXACT_MAX`] vectors of a kind are scanned exhaustively. Above, an inverted-file
//! index (IVF) keeps the scan small: spherical k-means puts the vectors into about √n lists
//! around unit centroids (trained on an evenly spaced sample, starting from evenly spaced
//! vectors: deterministic), and a query scans the lists whose centroids are nearest until
//! [`PROBE_MIN`] vectors have been seen. This is approximate above [`EXACT_MAX`]: a neighbour
//! in a list not probed is missed (the BM25 candidates and the exact re-scoring do not
//! depend on it).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Vectors of one kind scanned exhaustively up to this many.
pub const EXACT_MAX: usize = 16_384;
/// Vectors a query scans at least when the set has an IVF.
pub const PROBE_MIN: usize = 8_192;
/// Vectors k-means is trained on at most (evenly spaced).
const TRAIN_MAX: usize = 16_384;
/// k-means iterations.
const ITERATIONS: usize = 6;

/// Unit vectors of one kind, each with a payload, searchable by cosine.
#[derive(Debug)]
pub struct LatentSet<T> {
    dims: usize,
    items: Vec<T>,
    /// `items.len() × dims`, row-major.
    vectors: Vec<f32>,
    ivf: Option<Ivf>,
}

#[derive(Debug)]
struct Ivf {
    /// `lists × dims` unit centroids.
    centroids: Vec<f32>,
    /// Item positions per list.
    lists: Vec<Vec<u32>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // four accumulators: the compiler vectorises this
    let mut acc = [0f32; 4];
    let (ca, ra) = a.as_chunks::<4>();
    let (cb, rb) = b.as_chunks::<4>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// A heap entry ordered so that the heap's top is the worst kept (lowest similarity, then
/// highest position).
#[derive(Debug)]
struct Kept(f32, u32);
impl PartialEq for Kept {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Kept {}
impl Ord for Kept {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for Kept {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl<T> LatentSet<T> {
    /// A set over `(payload, unit vector)` pairs of `dims` dimensions (vectors of another
    /// length, or with a component that is not finite, are left out).
    pub fn new(dims: usize, entries: Vec<(T, Vec<f32>)>) -> LatentSet<T> {
        let mut items = Vec::with_capacity(entries.len());
        let mut vectors = Vec::with_capacity(entries.len() * dims);
        for (item, v) in entries {
            if v.len() == dims && dims > 0 && v.iter().all(|x| x.is_finite()) {
                items.push(item);
                vectors.extend_from_slice(&v);
            }
        }
        let mut set = LatentSet {
            dims,
            items,
            vectors,
            ivf: None,
        };
        if set.items.len() > EXACT_MAX {
            set.ivf = Some(set.train());
        }
        set
    }

    /// Vectors held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether the set is searched through lists (approximate) rather than exhaustively.
    pub fn is_approximate(&self) -> bool {
        self.ivf.is_some()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.vectors[i * self.dims..(i + 1) * self.dims]
    }

    fn train(&self) -> Ivf {
        let n = self.items.len();
        let d = self.dims;
        let lists = ((n as f64).sqrt().round() as usize).clamp(1, n);
        let sample: Vec<usize> = if n > TRAIN_MAX {
            (0..TRAIN_MAX).map(|i| i * n / TRAIN_MAX).collect()
        } else {
            (0..n).collect()
        };
        let mut centroids: Vec<f32> = (0..lists)
            .flat_map(|c| self.row(sample[c * sample.len() / lists]).to_vec())
            .collect();
        for _ in 0..ITERATIONS {
            let mut sums = vec![0f64; lists * d];
            let mut counts = vec![0usize; lists];
            for &i in &sample {
                let c = nearest_centroid(&centroids, d, self.row(i));
                counts[c] += 1;
                for (s, x) in sums[c * d..(c + 1) * d].iter_mut().zip(self.row(i)) {
                    *s += f64::from(*x);
                }
            }
            for c in 0..lists {
                let s = &sums[c * d..(c + 1) * d];
                let norm = s.iter().map(|x| x * x).sum::<f64>().sqrt();
                // an empty list keeps its centroid
                if counts[c] > 0 && norm > 0.0 {
                    for (o, x) in centroids[c * d..(c + 1) * d].iter_mut().zip(s) {
                        *o = (x / norm) as f32;
                    }
                }
            }
        }
        let mut members = vec![Vec::new(); lists];
        for i in 0..n {
            members[nearest_centroid(&centroids, d, self.row(i))].push(i as u32);
        }
        Ivf {
            centroids,
            lists: members,
        }
    }

    /// The `k` items most similar to `query` (cosine, best first; ties: insertion order)
    /// among those `accept` lets through, each with its cosine.
    pub fn nearest(
        &self,
        query: &[f32],
        k: usize,
        mut accept: impl FnMut(&T) -> bool,
    ) -> Vec<(&T, f32)> {
        if k == 0 || query.len() != self.dims || self.items.is_empty() {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Kept> = BinaryHeap::with_capacity(k + 1);
        let mut consider = |i: u32, heap: &mut BinaryHeap<Kept>| {
            let s = dot(query, self.row(i as usize));
            if !s.is_finite() {
                return;
            }
            if heap.len() >= k
                && let Some(worst) = heap.peek()
                && Kept(s, i) >= *worst
            {
                return;
            }
            if !accept(&self.items[i as usize]) {
                return;
            }
            heap.push(Kept(s, i));
            if heap.len() > k {
                heap.pop();
            }
        };
        match &self.ivf {
            None => {
                for i in 0..self.items.len() as u32 {
                    consider(i, &mut heap);
                }
            }
            Some(ivf) => {
                let mut order: Vec<(f32, usize)> = (0..ivf.lists.len())
                    .map(|c| {
                        (
                            dot(query, &ivf.centroids[c * self.dims..(c + 1) * self.dims]),
                            c,
                        )
                    })
                    .collect();
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut seen = 0usize;
                for (_, c) in order {
                    for &i in &ivf.lists[c] {
                        consider(i, &mut heap);
                    }
                    seen += ivf.lists[c].len();
                    if seen >= PROBE_MIN {
                        break;
                    }
                }
            }
        }
        let mut out: Vec<Kept> = heap.into_vec();
        out.sort();
        out.into_iter()
            .map(|Kept(s, i)| (&self.items[i as usize], s))
            .collect()
    }
}

fn nearest_centroid(centroids: &[f32], d: usize, v: &[f32]) -> usize {
    let mut best = (f32::NEG_INFINITY, 0usize);
    for (c, row) in centroids.chunks_exact(d).enumerate() {
        let s = dot(v, row);
        if s > best.0 {
            best = (s, c);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_vectors(n: usize, d: usize, seed: u64) -> Vec<Vec<f32>> {
        let raw = super::super::linalg::random_matrix(n * d, seed);
        raw.chunks_exact(d)
            .map(|r| {
                let norm = r.iter().map(|x| x * x).sum::<f32>().sqrt();
                r.iter().map(|x| x / norm).collect()
            })
            .collect()
    }

    fn brute(vs: &[Vec<f32>], q: &[f32], k: usize, ok: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut s: Vec<(f32, usize)> = vs
            .iter()
            .enumerate()
            .filter(|(i, _)| ok(*i))
            .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), i))
            .collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        s.into_iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn exact_search_equals_brute_force_with_filters_and_boundaries() {
        let vs = unit_vectors(500, 16, 7);
        let set = LatentSet::new(16, vs.iter().cloned().enumerate().collect());
        assert!(!set.is_approximate());
        for (qi, q) in unit_vectors(20, 16, 11).iter().enumerate() {
            for k in [1, 10, 50] {
                let got: Vec<usize> = set.nearest(q, k, |_| true).iter().map(|x| *x.0).collect();
                assert_eq!(got, brute(&vs, q, k, |_| true), "query {qi} k {k}");
                let even: Vec<usize> = set
                    .nearest(q, k, |i| i % 2 == 0)
                    .iter()
                    .map(|x| *x.0)
                    .collect();
                assert_eq!(even, brute(&vs, q, k, |i| i % 2 == 0));
            }
        }
        // k = 0, a wrong-length query, nothing accepted, an empty set
        assert!(set.nearest(&vs[0], 0, |_| true).is_empty());
        assert!(set.nearest(&[1.0; 3], 5, |_| true).is_empty());
        assert!(set.nearest(&vs[0], 5, |_| false).is_empty());
        // a vector with a component that is not finite is left out; a NaN query finds nothing
        let mut odd = vs[..3].to_vec();
        odd[1][0] = f32::NAN;
        let with_nan = LatentSet::new(16, odd.into_iter().enumerate().collect());
        assert_eq!(with_nan.len(), 2);
        assert!(with_nan.nearest(&[f32::NAN; 16], 5, |_| true).is_empty());
        let empty: LatentSet<usize> = LatentSet::new(16, Vec::new());
        assert!(empty.is_empty() && empty.nearest(&vs[0], 5, |_| true).is_empty());
        // a vector finds itself first, with cosine 1
        let top = set.nearest(&vs[42], 1, |_| true);
        assert_eq!(*top[0].0, 42);
        assert!((top[0].1 - 1.0).abs() < 1e-5);
    }

    #[test]
    fn lists_find_almost_all_true_neighbours_of_clustered_data() {
        // 40 topics of 600 vectors each, spread around a topic direction
        let d = 24;
        let topics = unit_vectors(40, d, 3);
        let noise = unit_vectors(40 * 600, d, 5);
        let vs: Vec<Vec<f32>> = (0..40 * 600)
            .map(|i| {
                let t = &topics[i % 40];
                let v: Vec<f32> = t.iter().zip(&noise[i]).map(|(a, b)| a + 0.6 * b).collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / n).collect()
            })
            .collect();
        let set = LatentSet::new(d, vs.iter().cloned().enumerate().collect());
        assert!(set.is_approximate());
        assert_eq!(set.len(), vs.len());
        let (mut found, mut wanted) = (0usize, 0usize);
        for qi in (0..vs.len()).step_by(997) {
            let got: Vec<usize> = set
                .nearest(&vs[qi], 20, |_| true)
                .iter()
                .map(|x| *x.0)
                .collect();
            let want = brute(&vs, &vs[qi], 20, |_| true);
            found += want.iter().filter(|w| got.contains(w)).count();
            wanted += want.len();
            // best first, and never a worse list than the brute force's
            assert_eq!(got[0], qi);
        }
        assert!(found * 100 >= wanted * 95, "recall {found}/{wanted}");
    }
}
