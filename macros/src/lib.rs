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
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input)
}
