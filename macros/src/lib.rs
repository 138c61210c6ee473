//! weft-macros: `#[weft::main]`, `#[weft::test]` and `weft::select!`.
//!
//! Use them through the `weft` crate, which re-exports them. Written against `proc_macro`
//! alone (no syn, no quote), to keep them cheap to compile.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod entry;
mod select;
mod tokens;

/// Runs an `async fn main` on a new weft runtime (asyncio's `asyncio.run(main())`).
///
/// `#[weft::main] async fn main() -> R { body }` becomes `fn main() -> R` that runs `body` to
/// completion with [`weft::run`](../weft/fn.run.html). The return type is kept, so
/// `-> Result<(), E>` and `?` work. `#[weft::main(start_paused = true)]` starts the runtime
/// with its clock paused (see `weft::Builder::start_paused`).
///
/// `#[weft::main(workers = N)]` (or `workers = "auto"`, one per core) runs the body on each of
/// `N` worker threads, every one with its own runtime (thread-per-core, see
/// `weft::Builder::workers`); `weft::workers::current()` tells them apart inside. `()` or
/// `Result<(), E>` bodies only: an error from a worker is main's (the lowest id's if
/// several). With `start_paused = true` every worker's clock starts paused.
///
/// # Examples
///
/// ```
/// #[weft::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = weft::spawn(async { "42" }).await.unwrap().parse()?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// A function that is not `async` is refused:
///
/// ```compile_fail
/// #[weft::main]
/// fn main() {}
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, attr, item)
}

/// Makes an `async fn` a test that runs on a fresh weft runtime.
///
/// Adds `#[test]` (do not add it yourself). The return type is kept, so tests can return
/// `Result`. `#[weft::test(start_paused = true)]` builds the runtime with
/// `weft::Builder::new().start_paused(true)`: its clock is paused, and time jumps to the
/// next timer whenever every task is idle, so tests of timeouts run instantly.
///
/// # Examples
///
/// ```
/// #[weft::test]
/// async fn adds() {
///     let sum = weft::spawn(async { 1 + 1 }).await.unwrap();
///     assert_eq!(sum, 2);
/// }
/// # fn main() {}
/// ```
///
/// A function that is not `async` is refused:
///
/// ```compile_fail
/// #[weft::test]
/// fn adds() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, attr, item)
}

/// The engine of `weft::select!`, which passes it weft's path first (`$crate;`); use
/// `weft::select!` (documented there), not this.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input)
}
