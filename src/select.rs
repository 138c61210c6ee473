//! `join!`, `try_join!`, and the run-time support of `select!` (a proc macro in
//! weft-macros, re-exported as `weft::select!`).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Runs futures concurrently in the current task and returns the tuple of their outputs
/// (tokio's `join!`): `weft::gather!(..).await`. Must be used inside an async context.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let (a, b) = weft::join!(async { 1 }, async { "b" });
///     assert_eq!((a, b), (1, "b"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::gather!($($fut),+).await
    };
}

/// Runs futures of `Result` concurrently in the current task; the first `Err` is returned at
/// once and the others are dropped, else the tuple of the `Ok` values (tokio's `try_join!`):
/// `weft::try_gather!(..).await`. Must be used inside an async context.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let ok: Result<_, &str> = weft::try_join!(async { Ok(1) }, async { Ok("b") });
///     assert_eq!(ok, Ok((1, "b")));
///     let err: Result<(u8, u8), &str> = weft::try_join!(async { Err("no") }, async { Ok(2) });
///     assert_eq!(err, Err("no"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::try_gather!($($fut),+).await
    };
}

thread_local! {
    /// xorshift64 state of this thread; 0 until first use (0 is xorshift's only bad seed).
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// Where `select!` starts polling: uniform in `0..n`. A thread-local xorshift64, seeded
/// once per thread from std's random hasher keys. Not for anything but fairness.
///
/// # Panics
///
/// If `n` is 0.
#[doc(hidden)]
pub fn random_start(n: usize) -> usize {
    assert!(n > 0, "random_start(0)");
    let x = RNG.with(|rng| {
        let mut x = rng.get();
        if x == 0 {
            // `| 1`: never zero.
            x = RandomState::new().build_hasher().finish() | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng.set(x);
        x
    });
    // Lemire's multiply-shift: maps the high bits onto `0..n` without a division.
    (((x >> 32) * n as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::random_start;

    #[test]
    fn random_start_covers_the_range() {
        let mut seen = [0u32; 5];
        for _ in 0..1000 {
            seen[random_start(5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 100), "{seen:?}");
        assert_eq!(random_start(1), 0);
    }
}
