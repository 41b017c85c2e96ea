//! The little dense and sparse linear algebra the semantic model needs: a CSR matrix with
//! multithreaded products, Cholesky-QR orthonormalisation and a Jacobi eigensolver. Work is
//! split into a fixed number of chunks whatever the number of cores, so results are the
//! same on every machine.

/// Fixed number of work chunks (and at most this many threads).
const CHUNKS: usize = 4;

/// A sparse matrix in compressed sparse row form.
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    pub rows: usize,
    pub cols: usize,
    pub ptr: Vec<usize>,
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl Csr {
    /// Builds from rows of `(column, value)`.
    pub fn from_rows(rows: &[Vec<(u32, f32)>], cols: usize) -> Csr {
        let mut m = Csr {
            rows: rows.len(),
            cols,
            ptr: Vec::with_capacity(rows.len() + 1),
            ..Default::default()
        };
        m.ptr.push(0);
        for r in rows {
            for &(c, v) in r {
                m.idx.push(c);
                m.val.push(v);
            }
            m.ptr.push(m.idx.len());
        }
        m
    }

    /// The transpose, also in CSR form (rows sorted by original row).
    pub fn transpose(&self) -> Csr {
        let mut count = vec![0usize; self.cols + 1];
        for &c in &self.idx {
            count[c as usize + 1] += 1;
        }
        for i in 0..self.cols {
            count[i + 1] += count[i];
        }
        let ptr = count.clone();
        let mut next = count;
        let mut idx = vec![0u32; self.idx.len()];
        let mut val = vec![0f32; self.val.len()];
        for r in 0..self.rows {
            for k in self.ptr[r]..self.ptr[r + 1] {
                let c = self.idx[k] as usize;
                let at = next[c];
                idx[at] = r as u32;
                val[at] = self.val[k];
                next[c] += 1;
            }
        }
        Csr {
            rows: self.cols,
            cols: self.rows,
            ptr,
            idx,
            val,
        }
    }

    /// `out = self · z`, `z` row-major `cols × l`, `out` row-major `rows × l`.
    pub fn mul(&self, z: &[f32], l: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * l];
        let per = self.rows.div_ceil(CHUNKS).max(1);
        std::thread::scope(|s| {
            for (ci, chunk) in out.chunks_mut(per * l).enumerate() {
                s.spawn(move || {
                    let first = ci * per;
                    for (i, row_out) in chunk.chunks_mut(l).enumerate() {
                        let r = first + i;
                        for k in self.ptr[r]..self.ptr[r + 1] {
                            let c = self.idx[k] as usize;
                            let v = self.val[k];
                            let zr = &z[c * l..(c + 1) * l];
                            for (o, x) in row_out.iter_mut().zip(zr) {
                                *o += v * x;
                            }
                        }
                    }
                });
            }
        });
        out
    }
}

/// Orthonormalises the columns of the row-major `rows × l` matrix `z` in place (Cholesky QR,
/// done twice for accuracy). Columns that are numerically dependent come out small rather
/// than failing.
pub(crate) fn orthonormalize(z: &mut [f32], rows: usize, l: usize) {
    for _ in 0..2 {
        let g = gram(z, rows, l);
        let lower = cholesky(&g, l);
        let per = rows.div_ceil(CHUNKS).max(1);
        std::thread::scope(|s| {
            for chunk in z.chunks_mut(per * l) {
                let lower = &lower;
                s.spawn(move || {
                    let mut x = vec![0f64; l];
                    for row in chunk.chunks_mut(l) {
                        // x R = row with R = Lᵀ  ⇔  L xᵀ = rowᵀ (forward substitution)
                        for i in 0..l {
                            let mut acc = f64::from(row[i]);
                            for j in 0..i {
                                acc -= lower[i * l + j] * x[j];
                            }
                            x[i] = acc / lower[i * l + i];
                        }
                        for (o, v) in row.iter_mut().zip(&x) {
                            *o = *v as f32;
                        }
                    }
                });
            }
        });
    }
}

/// `zᵀ z` in f64 (`l × l`, row-major).
pub(crate) fn gram(z: &[f32], rows: usize, l: usize) -> Vec<f64> {
    let per = rows.div_ceil(CHUNKS).max(1);
    let parts: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = z
            .chunks(per * l)
            .map(|chunk| {
                s.spawn(move || {
                    let mut g = vec![0f64; l * l];
                    for row in chunk.chunks(l) {
                        for i in 0..l {
                            let ri = f64::from(row[i]);
                            if ri == 0.0 {
                                continue;
                            }
                            let gi = &mut g[i * l..(i + 1) * l];
                            for j in i..l {
                                gi[j] += ri * f64::from(row[j]);
                            }
                        }
                    }
                    g
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut g = vec![0f64; l * l];
    for p in parts {
        for (a, b) in g.iter_mut().zip(&p) {
            *a += b;
        }
    }
    for i in 0..l {
        for j in 0..i {
            g[i * l + j] = g[j * l + i];
        }
    }
    g
}

/// Lower Cholesky factor of a symmetric positive semi-definite matrix, with a small ridge so
/// that rank-deficient input still factors.
fn cholesky(g: &[f64], n: usize) -> Vec<f64> {
    let trace: f64 = (0..n).map(|i| g[i * n + i]).sum();
    let ridge = (trace / n.max(1) as f64).max(1e-30) * 1e-10;
    let mut lo = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut acc = g[i * n + j];
            for k in 0..j {
                acc -= lo[i * n + k] * lo[j * n + k];
            }
            if i == j {
                lo[i * n + i] = (acc + ridge).max(ridge).sqrt();
            } else {
                lo[i * n + j] = acc / lo[j * n + j];
            }
        }
    }
    lo
}

/// Eigen-decomposition of a symmetric `n × n` matrix by cyclic Jacobi rotations. Returns the
/// eigenvalues in decreasing order and the matching eigenvectors as the columns of a
/// row-major `n × n` matrix.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = vec![0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let total: f64 = a.iter().map(|x| x * x).sum();
        if off <= 1e-22 * total.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[i * n + i]).collect();
    let mut vecs = vec![0f64; n * n];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..n {
            vecs[k * n + new] = v[k * n + old];
        }
    }
    (values, vecs)
}

/// Deterministic pseudo-random numbers (splitmix64) uniform in [−1, 1].
pub(crate) fn random_matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_recovers_a_known_spectrum() {
        // A = Q diag(5, 2, 1) Qᵀ for a rotation Q
        let (c, s) = (0.6f64, 0.8f64);
        let q = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0];
        let d = [5.0, 2.0, 1.0];
        let mut a = vec![0f64; 9];
        for i in 0..3 {
            for j in 0..3 {
                a[i * 3 + j] = (0..3).map(|k| q[i * 3 + k] * d[k] * q[j * 3 + k]).sum();
            }
        }
        let (vals, vecs) = symmetric_eigen(&a, 3);
        for (v, e) in vals.iter().zip(d) {
            assert!((v - e).abs() < 1e-9, "{vals:?}");
        }
        // first eigenvector is ±(c, s, 0)
        let dot = vecs[0] * c + vecs[3] * s;
        assert!((dot.abs() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn orthonormalize_and_products() {
        let rows = 50;
        let l = 4;
        let mut z = random_matrix(rows * l, 7);
        orthonormalize(&mut z, rows, l);
        let g = gram(&z, rows, l);
        for i in 0..l {
            for j in 0..l {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((g[i * l + j] - want).abs() < 1e-4, "{g:?}");
            }
        }
        let m = Csr::from_rows(&[vec![(0, 1.0), (2, 2.0)], vec![(1, 3.0)]], 3);
        let t = m.transpose();
        assert_eq!(t.rows, 3);
        let x = vec![1.0, 10.0, 100.0];
        assert_eq!(m.mul(&x, 1), vec![201.0, 30.0]);
        assert_eq!(t.mul(&[1.0, 2.0], 1), vec![1.0, 6.0, 2.0]);
    }
}
