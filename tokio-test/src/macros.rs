//! tokio-test's assertion macros. Each takes an optional format message after the expression.

/// Asserts that a `Poll` is `Ready` and returns its value.
///
/// ```
/// use std::task::Poll;
/// assert_eq!(tokio_test::assert_ready!(Poll::Ready(3)), 3);
/// ```
#[macro_export]
macro_rules! assert_ready {
    ($e:expr) => {{
        match $e {
            ::std::task::Poll::Ready(v) => v,
            ::std::task::Poll::Pending => ::std::panic!("pending"),
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $e {
            ::std::task::Poll::Ready(v) => v,
            ::std::task::Poll::Pending => {
                ::std::panic!("pending; {}", ::std::format_args!($($msg)+))
            }
        }
    }};
}

/// Asserts that a `Poll<Result<..>>` is `Ready(Ok(_))` and returns the `Ok` value.
///
/// ```
/// use std::task::Poll;
/// let p: Poll<Result<u8, ()>> = Poll::Ready(Ok(3));
/// assert_eq!(tokio_test::assert_ready_ok!(p), 3);
/// ```
#[macro_export]
macro_rules! assert_ready_ok {
    ($e:expr) => {{
        match $crate::assert_ready!($e) {
            ::std::result::Result::Ok(v) => v,
            ::std::result::Result::Err(e) => ::std::panic!("error = {:?}", e),
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $crate::assert_ready!($e, $($msg)+) {
            ::std::result::Result::Ok(v) => v,
            ::std::result::Result::Err(e) => {
                ::std::panic!("error = {:?}; {}", e, ::std::format_args!($($msg)+))
            }
        }
    }};
}

/// Asserts that a `Poll<Result<..>>` is `Ready(Err(_))` and returns the error.
///
/// ```
/// use std::task::Poll;
/// let p: Poll<Result<(), u8>> = Poll::Ready(Err(3));
/// assert_eq!(tokio_test::assert_ready_err!(p), 3);
/// ```
#[macro_export]
macro_rules! assert_ready_err {
    ($e:expr) => {{
        match $crate::assert_ready!($e) {
            ::std::result::Result::Ok(v) => ::std::panic!("value = {:?}", v),
            ::std::result::Result::Err(e) => e,
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $crate::assert_ready!($e, $($msg)+) {
            ::std::result::Result::Ok(v) => {
                ::std::panic!("value = {:?}; {}", v, ::std::format_args!($($msg)+))
            }
            ::std::result::Result::Err(e) => e,
        }
    }};
}

/// Asserts that a `Poll` is `Pending`.
///
/// ```
/// use std::task::Poll;
/// tokio_test::assert_pending!(Poll::<u8>::Pending);
/// ```
#[macro_export]
macro_rules! assert_pending {
    ($e:expr) => {{
        match $e {
            ::std::task::Poll::Pending => {}
            ::std::task::Poll::Ready(v) => ::std::panic!("ready; value = {:?}", v),
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $e {
            ::std::task::Poll::Pending => {}
            ::std::task::Poll::Ready(v) => {
                ::std::panic!("ready; value = {:?}; {}", v, ::std::format_args!($($msg)+))
            }
        }
    }};
}

/// Asserts that a `Poll` is `Ready` with a value equal to the second argument.
///
/// ```
/// use std::task::Poll;
/// tokio_test::assert_ready_eq!(Poll::Ready(3), 3);
/// ```
#[macro_export]
macro_rules! assert_ready_eq {
    ($e:expr, $expect:expr) => {
        let val = $crate::assert_ready!($e);
        ::std::assert_eq!(val, $expect)
    };
    ($e:expr, $expect:expr, $($msg:tt)+) => {
        let val = $crate::assert_ready!($e, $($msg)+);
        ::std::assert_eq!(val, $expect, $($msg)+)
    };
}

/// Asserts that a `Result` is `Ok` and returns the value.
///
/// ```
/// assert_eq!(tokio_test::assert_ok!(Ok::<u8, ()>(3)), 3);
/// ```
#[macro_export]
macro_rules! assert_ok {
    ($e:expr) => {{
        match $e {
            ::std::result::Result::Ok(v) => v,
            ::std::result::Result::Err(e) => ::std::panic!("assertion failed: Err({:?})", e),
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $e {
            ::std::result::Result::Ok(v) => v,
            ::std::result::Result::Err(e) => {
                ::std::panic!("assertion failed: Err({:?}): {}", e, ::std::format_args!($($msg)+))
            }
        }
    }};
}

/// Asserts that a `Result` is `Err` and returns the error.
///
/// ```
/// assert_eq!(tokio_test::assert_err!(Err::<(), u8>(3)), 3);
/// ```
#[macro_export]
macro_rules! assert_err {
    ($e:expr) => {{
        match $e {
            ::std::result::Result::Ok(v) => ::std::panic!("assertion failed: Ok({:?})", v),
            ::std::result::Result::Err(e) => e,
        }
    }};
    ($e:expr, $($msg:tt)+) => {{
        match $e {
            ::std::result::Result::Ok(v) => {
                ::std::panic!("assertion failed: Ok({:?}): {}", v, ::std::format_args!($($msg)+))
            }
            ::std::result::Result::Err(e) => e,
        }
    }};
}

/// Asserts that at least `$dur` and at most `$dur` + 1 ms elapsed since `$start` (an
/// `Instant` of any clock with `elapsed()`; the 1 ms allows for millisecond rounding).
///
/// ```
/// let start = std::time::Instant::now();
/// tokio_test::assert_elapsed!(start, std::time::Duration::ZERO);
/// ```
#[macro_export]
macro_rules! assert_elapsed {
    ($start:expr, $dur:expr) => {{
        let elapsed = $start.elapsed();
        let lower: ::std::time::Duration = $dur;
        ::std::assert!(
            elapsed >= lower && elapsed <= lower + ::std::time::Duration::from_millis(1),
            "actual = {:?}, expected = {:?}",
            elapsed,
            lower
        );
    }};
}
