//! asyncio's classic first example, in Rust on weft.
//!
//! ```python
//! async def say_after(delay, what):
//!     print(f"{what}: start")
//!     await asyncio.sleep(delay)
//!     print(f"{what}: end")
//!
//! async def main():
//!     t1 = asyncio.create_task(say_after(1, "hello"))
//!     t2 = asyncio.create_task(say_after(1, "world"))
//!     await asyncio.gather(t1, t2)
//!
//! asyncio.run(main())
//! ```
//!
//! Run it with `cargo run --release --example quickstart`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// The coroutine, written with async/await.
async fn say_after(what: &'static str) -> &'static str {
    println!("{what}: start");
    // Both tasks wait at the same time: the runtime runs the other one meanwhile.
    weft::yield_now().await;
    println!("{what}: end");
    what
}

/// The same coroutine written by hand: what the compiler makes of `say_after`. Each `await`
/// is a state; `poll` runs from one state to the next, like a generator resumed by
/// `yield from`.
enum SayAfter {
    Start(&'static str),
    Waiting(&'static str, weft::task::YieldNow),
    Done,
}

impl Future for SayAfter {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        loop {
            match &mut *self {
                SayAfter::Start(what) => {
                    let what = *what;
                    println!("{what}: start (hand-written)");
                    *self = SayAfter::Waiting(what, weft::yield_now());
                }
                SayAfter::Waiting(what, wait) => {
                    // `YieldNow` is `Unpin`, so it can be polled through a plain `&mut`.
                    match Pin::new(wait).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => {
                            let what = *what;
                            println!("{what}: end (hand-written)");
                            *self = SayAfter::Done;
                            return Poll::Ready(what);
                        }
                    }
                }
                SayAfter::Done => panic!("SayAfter polled after it finished"),
            }
        }
    }
}

fn main() {
    weft::run(async {
        let started = Instant::now();
        let t1 = weft::create_task(say_after("hello"));
        let t2 = weft::create_task(say_after("world"));
        let (a, b) = weft::gather!(t1, t2).await;
        println!("gathered {:?}, {:?}", a.unwrap(), b.unwrap());

        let t1 = weft::create_task(SayAfter::Start("hello"));
        let t2 = weft::create_task(SayAfter::Start("world"));
        let (a, b) = weft::gather!(t1, t2).await;
        println!("gathered {:?}, {:?}", a.unwrap(), b.unwrap());

        println!("finished in {:.3?}", started.elapsed());
    });
}
