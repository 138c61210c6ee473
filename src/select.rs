//! `select!` (its parser is a proc macro in weft-macros), `join!`, `try_join!` and `pin!`,
//! with their run-time support.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Waits on several futures at once and runs the handler of the first that completes
/// (tokio's `select!`; asyncio's `wait(.., FIRST_COMPLETED)` written inline).
///
/// ```text
/// weft::select! {
///     biased;                                     // optional
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     else => <expression>,                       // optional
/// }
/// ```
///
/// It must be used inside an async context, and evaluates as follows:
///
/// 1. Every `<condition>` is evaluated; a branch whose condition is false is disabled.
/// 2. Every `<future>` is evaluated, in order, including those of disabled branches (those
///    are then never polled). Anything that implements `IntoFuture` goes; futures need not
///    be `Unpin` or fused: each is pinned inside the macro and polled until it completes,
///    never after.
/// 3. The enabled futures are polled, starting from a random branch each time (fairness),
///    or in the order written with `biased;`.
/// 4. When a future completes, its output is matched against `<pattern>`. On a match, all
///    the futures are dropped and `<handler>` runs with the pattern's bindings: its value is
///    the value of `select!`. On a mismatch the branch is disabled and the others go on.
/// 5. When every branch is disabled, the `else` expression runs; without `else`, the macro
///    panics with "all branches are disabled and there is no else branch".
///
/// Handlers run after the futures are dropped, so they may use what the futures borrowed;
/// `break`, `continue`, `return` and `?` in a handler act on the code around `select!`.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let fast = async { 1 };
///     let slow = std::future::pending::<u32>();
///     let got = weft::select! {
///         v = fast => v,
///         v = slow => v * 10,
///     };
///     assert_eq!(got, 1);
/// });
/// ```
///
/// Patterns that do not match disable their branch; `if` preconditions; `else`:
///
/// ```
/// weft::run(async {
///     let mut seen = Vec::new();
///     for round in 0..3 {
///         weft::select! {
///             biased;
///             Some(v) = async { None::<u32> } => seen.push(v), // never matches
///             v = async { round }, if round < 2 => seen.push(v * 100),
///             else => seen.push(999),
///         }
///     }
///     assert_eq!(seen, [0, 100, 999]);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select!($crate; $($tokens)*)
    };
}

/// Runs futures concurrently in the current task and returns the tuple of their outputs
/// (tokio's `join!`). Must be used inside an async context.
///
/// The futures are polled in place, not spawned. Each poll starts from the branch after the
/// one it started from last time, so that no branch always goes first (a branch that spends
/// the task's budget cannot starve the others); with `biased;` first, every poll goes in the
/// order written.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let (a, b) = weft::join!(async { 1 }, async { "b" });
///     assert_eq!((a, b), (1, "b"));
///     let (c,) = weft::join!(biased; async { 'c' });
///     assert_eq!(c, 'c');
/// });
/// ```
#[macro_export]
macro_rules! join {
    (biased; $($fut:expr),+ $(,)?) => {
        $crate::__join!(@munch [biased join] () () $($fut,)+)
    };
    ($($fut:expr),+ $(,)?) => {
        $crate::__join!(@munch [rotate join] () () $($fut,)+)
    };
    ($(biased;)?) => {
        async {}.await
    };
}

/// Runs futures of `Result` concurrently in the current task; the first `Err` is returned at
/// once and the others are dropped, else the tuple of the `Ok` values (tokio's `try_join!`).
/// Must be used inside an async context. Polls in turn as [`join!`](crate::join!) does, and
/// takes `biased;` the same way.
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
    (biased; $($fut:expr),+ $(,)?) => {
        $crate::__join!(@munch [biased try_join] () () $($fut,)+)
    };
    ($($fut:expr),+ $(,)?) => {
        $crate::__join!(@munch [rotate try_join] () () $($fut,)+)
    };
    ($(biased;)?) => {
        async { ::core::result::Result::Ok(()) }.await
    };
}

/// Implementation of [`join!`](crate::join!) and [`try_join!`](crate::try_join!).
///
/// The futures sit in one tuple of `MaybeDone` in the awaiting async context, reached through
/// one `&mut`; the position of each is written as a list of `_` (one per future before it),
/// which both destructures the tuple and counts.
#[doc(hidden)]
#[macro_export]
macro_rules! __join {
    (@munch [$($mode:tt)*] ($($before:tt)*) ($($acc:tt)*) $fut:expr, $($rest:tt)*) => {
        $crate::__join!(@munch [$($mode)*] ($($before)* _) ($($acc)* [($($before)*) $fut]) $($rest)*)
    };
    (@munch [$order:ident $kind:ident] ($($all:tt)*) ($([($($skip:tt)*) $fut:expr])*)) => {{
        let mut __futs = ($($crate::__private::maybe_done(
            ::core::future::IntoFuture::into_future($fut),
        ),)*);
        let __futs = &mut __futs;
        let mut __turn = $crate::__join!(@turn $order);
        $crate::__private::poll_fn(move |__cx| {
            const __N: u32 = 0 $(+ $crate::__join!(@one $all))*;
            let __start = __turn.next(__N);
            let mut __pending = false;
            // From `__start` to the end, then from the start to `__start`.
            $(
                if $crate::__join!(@count $($skip)*) >= __start {
                    $crate::__join!(@poll $kind __futs __cx __pending ($($skip)*));
                }
            )*
            $(
                if $crate::__join!(@count $($skip)*) < __start {
                    $crate::__join!(@poll $kind __futs __cx __pending ($($skip)*));
                }
            )*
            if __pending {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready($crate::__join!(@output $kind ($({
                let ($($skip,)* __fut, ..) = &mut *__futs;
                // SAFETY: as in `@poll`: the tuple is not moved while its futures live.
                let __fut = unsafe { ::core::pin::Pin::new_unchecked(__fut) };
                $crate::__join!(@take $kind __fut)
            },)*)))
        })
        .await
    }};
    (@poll $kind:ident $futs:ident $cx:ident $pending:ident ($($skip:tt)*)) => {
        let ($($skip,)* __fut, ..) = &mut *$futs;
        // SAFETY: the tuple is a local of the async context that awaits the macro, reached
        // only through the `&mut` that shadows it: it does not move until that context drops
        // it, so its futures are pinned.
        let mut __fut = unsafe { ::core::pin::Pin::new_unchecked(__fut) };
        if ::core::future::Future::poll(__fut.as_mut(), $cx).is_pending() {
            $pending = true;
        } else {
            $crate::__join!(@check $kind __fut);
        }
    };
    (@check join $fut:ident) => {};
    (@check try_join $fut:ident) => {
        if let ::core::option::Option::Some(::core::result::Result::Err(_)) = $fut.as_mut().output_mut() {
            let __err = $fut.take_output().and_then(::core::result::Result::err);
            return ::core::task::Poll::Ready(::core::result::Result::Err(
                __err.expect("try_join!: the error is taken once"),
            ));
        }
    };
    (@take join $fut:ident) => {
        $fut.take_output().expect("join!: each output is taken once")
    };
    (@take try_join $fut:ident) => {
        match $fut.take_output() {
            ::core::option::Option::Some(::core::result::Result::Ok(v)) => v,
            _ => ::core::unreachable!("try_join!: each output is taken once, and is Ok"),
        }
    };
    (@output join $out:expr) => { $out };
    (@output try_join $out:expr) => { ::core::result::Result::Ok($out) };
    (@turn biased) => { $crate::__private::Biased };
    (@turn rotate) => { $crate::__private::Rotate::default() };
    (@one _) => { 1u32 };
    (@count $($skip:tt)*) => { 0u32 $(+ $crate::__join!(@one $skip))* };
}

/// Pins values on the stack, shadowing them (tokio's `pin!`): `pin!(a, b)` makes `a` and `b`
/// `Pin<&mut _>` of the values they held, and `pin! { let a = expr; }` declares pinned values.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let fut = async { 7 };
///     weft::pin!(fut);
///     assert_eq!((&mut fut).await, 7); // `Pin<&mut F>` is a future, and can be polled again
///
///     weft::pin! {
///         let sleep = weft::sleep(std::time::Duration::ZERO);
///     }
///     sleep.as_mut().await;
/// });
/// ```
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => {
        $(
            #[allow(unused_mut)]
            let mut $x = ::core::pin::pin!($x);
        )*
    };
    ($(let $x:ident = $init:expr;)*) => {
        $(
            let $x = $init;
            $crate::pin!($x);
        )*
    };
}

/// Where `join!` starts polling: one past where it started last time.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Rotate(u32);

impl Rotate {
    #[doc(hidden)]
    #[inline]
    pub fn next(&mut self, n: u32) -> u32 {
        let start = self.0;
        self.0 = if start + 1 >= n { 0 } else { start + 1 };
        start
    }
}

/// Where `join!(biased; ..)` starts polling: always the first branch.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Biased;

impl Biased {
    #[doc(hidden)]
    #[inline]
    pub fn next(&mut self, _n: u32) -> u32 {
        0
    }
}

/// Whether the task may go on polling `select!`'s branches: tokio's `select!` yields (and
/// wakes itself) first when the task's cooperative budget is spent, so a loop on a branch that
/// is always ready still lets other tasks run.
#[doc(hidden)]
pub fn budget_available(cx: &mut std::task::Context<'_>) -> bool {
    if weft_executor::coop::has_budget_remaining() {
        return true;
    }
    cx.waker().wake_by_ref();
    false
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
