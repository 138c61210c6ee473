//! A log-linear histogram of durations: 8 buckets per power of two, so a quantile is off by at
//! most 12.5 % of its value; values below 16 ns are exact. Fixed size, no allocation per sample.

use std::fmt;
use std::time::Duration;

const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this are their own bucket.
const LINEAR: u64 = 2 * SUB;
const BUCKETS: usize = (LINEAR + (64 - (SUB_BITS + 1) as u64) * SUB) as usize;

/// Counts of durations in log-linear buckets, with exact count, sum and max.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_executor::metrics::Histogram;
///
/// let mut h = Histogram::new();
/// for us in 1..=100 {
///     h.record(Duration::from_micros(us));
/// }
/// assert_eq!(h.count(), 100);
/// assert_eq!(h.max(), Duration::from_micros(100));
/// let p50 = h.quantile(0.5).as_micros();
/// assert!((44..=56).contains(&p50), "p50 = {p50}");
/// ```
#[derive(Clone)]
pub struct Histogram {
    buckets: Box<[u64; BUCKETS]>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < LINEAR {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros(); // >= SUB_BITS + 1
    let sub = (ns >> (exp - SUB_BITS)) & (SUB - 1);
    (LINEAR + u64::from(exp - SUB_BITS - 1) * SUB + sub) as usize
}

/// The smallest value that falls in bucket `i`.
fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let exp = (i - LINEAR) / SUB + u64::from(SUB_BITS) + 1;
    let sub = (i - LINEAR) % SUB;
    (1u64 << exp) | (sub << (exp - u64::from(SUB_BITS)))
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            buckets: Box::new([0; BUCKETS]),
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Adds every sample of `other` to this histogram (to aggregate several runtimes').
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_executor::metrics::Histogram;
    ///
    /// let (mut a, mut b) = (Histogram::new(), Histogram::new());
    /// a.record(Duration::from_micros(1));
    /// b.record(Duration::from_micros(9));
    /// a.merge(&b);
    /// assert_eq!((a.count(), a.max()), (2, Duration::from_micros(9)));
    /// ```
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// How many samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest sample (exact).
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// The mean (exact).
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((self.sum_ns / u128::from(self.count)) as u64)
    }

    /// The `q`-quantile (`0.0..=1.0`): the middle of the bucket holding the sample of rank
    /// `ceil(q * count)`, capped at the maximum. Zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let lo = lower_bound(i);
                let hi = if i + 1 < BUCKETS {
                    lower_bound(i + 1)
                } else {
                    u64::MAX
                };
                let mid = lo + (hi - lo) / 2;
                return Duration::from_nanos(mid.min(self.max_ns));
            }
        }
        self.max()
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("p50", &self.p50())
            .field("p99", &self.p99())
            .field("max", &self.max())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_monotonic() {
        let mut last = 0;
        for ns in (0..100_000u64).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket_of(ns);
            assert!(b >= last, "bucket of {ns} went backwards");
            assert!(lower_bound(b) <= ns, "{ns} below its bucket");
            if b + 1 < BUCKETS {
                assert!(lower_bound(b + 1) > ns, "{ns} above its bucket");
            }
            last = b;
        }
    }

    #[test]
    fn uniform_distribution_quantiles() {
        let mut h = Histogram::new();
        let n = if cfg!(miri) { 1_000 } else { 100_000 };
        for i in 1..=n {
            h.record(Duration::from_nanos(i * 10));
        }
        for q in [0.1, 0.5, 0.9, 0.99] {
            let exact = q * (n * 10) as f64;
            let got = h.quantile(q).as_nanos() as f64;
            assert!((got - exact).abs() / exact < 0.07, "q{q}: {got} vs {exact}");
        }
        assert_eq!(h.max(), Duration::from_nanos(n * 10));
        assert_eq!(h.count(), n);
    }

    #[test]
    fn point_masses() {
        let mut h = Histogram::new();
        for _ in 0..90 {
            h.record(Duration::from_micros(1));
        }
        for _ in 0..10 {
            h.record(Duration::from_millis(5));
        }
        let p50 = h.p50().as_nanos() as f64;
        assert!((p50 - 1000.0).abs() / 1000.0 < 0.07, "{p50}");
        let p99 = h.p99().as_nanos() as f64;
        assert!((p99 - 5e6).abs() / 5e6 < 0.07, "{p99}");
        assert!(h.quantile(0.0).as_nanos() > 900);
    }
}
