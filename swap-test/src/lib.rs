//! weft renamed as `tokio` in Cargo.toml (`tokio = { package = "weft", .. }`): a crate
//! written for tokio, compiled against weft. Its tests are in `tests/rename_swap.rs`; here,
//! what must not compile.
//!
//! `flavor = "multi_thread"` is refused at compile time, with weft's thread-per-core way:
//!
//! ```compile_fail
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn many_threads() {}
//! # fn main() {}
//! ```
//!
//! ```compile_fail
//! #[tokio::main(flavor = "multi_thread")]
//! async fn main() {}
//! ```
//!
//! The same with `flavor = "current_thread"` compiles (the control for the two above):
//!
//! ```
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     tokio::task::yield_now().await;
//! }
//! ```
#![forbid(unsafe_code)]

/// A library function written against tokio's paths, used by the tests.
pub async fn double_later(x: u32) -> u32 {
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    x * 2
}
