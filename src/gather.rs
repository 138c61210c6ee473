//! asyncio's `gather`: run several futures concurrently in the current task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::{join_all, JoinAll};

/// Runs every future of `iter` concurrently in the current task and returns their outputs in
/// input order (asyncio's `gather(*aws)`).
///
/// The futures are polled in place, not spawned: nothing runs before the `Gather` is awaited,
/// and dropping it drops them all. To run them as tasks, pass `JoinHandle`s.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let squares = weft::gather((1..=4).map(|i| async move { i * i })).await;
///     assert_eq!(squares, vec![1, 4, 9, 16]);
/// });
/// ```
pub fn gather<I>(iter: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Gather {
        inner: join_all(iter),
    }
}

/// Future returned by [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    inner: JoinAll<F>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F: Future> std::fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gather")
    }
}

/// Runs futures concurrently in the current task; `.await` it for a tuple of their outputs
/// (asyncio's `await gather(a, b, c)`).
///
/// Takes any number of futures, of any types. They are polled in place (not spawned), every
/// one on each wake until all are done.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let (a, b, c) = weft::gather!(async { 1 }, async { "two" }, async { 3.0 }).await;
///     assert_eq!((a, b, c), (1, "two", 3.0));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::__gather_impl!(@munch () $($fut,)+)
    };
}

/// Implementation detail of [`gather!`](crate::gather!): gives each future a binding of its own (macro
/// hygiene makes the `f` of each recursion step distinct).
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    (@munch ($($acc:tt)*) $head:expr, $($rest:expr,)*) => {
        $crate::__gather_impl!(@munch ($($acc)* [f $head]) $($rest,)*)
    };
    (@munch ($([$name:ident $e:expr])*)) => {{
        $( let $name = $crate::__private::maybe_done($e); )*
        async move {
            $( let mut $name = ::core::pin::pin!($name); )*
            $crate::__private::poll_fn(|cx| {
                let mut all_done = true;
                $(
                    all_done &= ::core::future::Future::poll($name.as_mut(), cx).is_ready();
                )*
                if !all_done {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(($(
                    $name.as_mut().take_output().expect("gather! output taken once"),
                )*))
            })
            .await
        }
    }};
}

/// Like [`gather!`](crate::gather!) for futures of `Result`: the first `Err` is returned at once and the
/// other futures are dropped; otherwise a tuple of the `Ok` values (asyncio's `gather` without
/// `return_exceptions`; tokio's `try_join!`).
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let ok: Result<(u8, u8), &str> = weft::try_gather!(async { Ok(1) }, async { Ok(2) }).await;
///     assert_eq!(ok, Ok((1, 2)));
///     let err: Result<(u8, u8), &str> =
///         weft::try_gather!(async { Ok(1) }, async { Err("bad") }).await;
///     assert_eq!(err, Err("bad"));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::__try_gather_impl!(@munch () $($fut,)+)
    };
}

/// Implementation detail of [`try_gather!`](crate::try_gather!).
#[doc(hidden)]
#[macro_export]
macro_rules! __try_gather_impl {
    (@munch ($($acc:tt)*) $head:expr, $($rest:expr,)*) => {
        $crate::__try_gather_impl!(@munch ($($acc)* [f $head]) $($rest,)*)
    };
    (@munch ($([$name:ident $e:expr])*)) => {{
        $( let $name = $crate::__private::try_maybe_done($e); )*
        async move {
            $( let mut $name = ::core::pin::pin!($name); )*
            $crate::__private::poll_fn(|cx| {
                let mut all_done = true;
                $(
                    match ::core::future::Future::poll($name.as_mut(), cx) {
                        ::core::task::Poll::Ready(::core::result::Result::Ok(())) => {}
                        ::core::task::Poll::Ready(::core::result::Result::Err(e)) => {
                            return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                        }
                        ::core::task::Poll::Pending => all_done = false,
                    }
                )*
                if !all_done {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(::core::result::Result::Ok(($(
                    $name.as_mut().take_output().expect("try_gather! output taken once"),
                )*)))
            })
            .await
        }
    }};
}
