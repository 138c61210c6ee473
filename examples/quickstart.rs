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
use std::time::{Duration, Instant};

/// The coroutine, written with async/await.
async fn say_after(what: &'static str) -> &'static str {
    println!("{what}: start");
    // Both tasks wait at the same time: the runtime runs the other one meanwhile.
    weft::sleep(Duration::from_secs(1)).await;
    println!("{what}: end");
    what
}

/// The same coroutine written by hand: what the compiler makes of `say_after`. Each `await`
/// is a state; `poll` runs from one state to the next, like a generator resumed by
/// `yield from`.
enum SayAfter {
    Start(&'static str),
    Waiting(&'static str, Pin<Box<weft::time::Sleep>>),
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
                    let sleep = Box::pin(weft::sleep(Duration::from_secs(1)));
                    *self = SayAfter::Waiting(what, sleep);
                }
                SayAfter::Waiting(what, wait) => {
                    // The sleep is pinned in its box, so it can be polled through `as_mut`.
                    match wait.as_mut().poll(cx) {
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
        println!(
            "async/await: both slept 1 s, together in {:.2?}",
            started.elapsed()
        );

        let started = Instant::now();
        let t1 = weft::create_task(SayAfter::Start("hello"));
        let t2 = weft::create_task(SayAfter::Start("world"));
        let (a, b) = weft::gather!(t1, t2).await;
        println!("gathered {:?}, {:?}", a.unwrap(), b.unwrap());

        println!(
            "hand-written: both slept 1 s, together in {:.2?}",
            started.elapsed()
        );
    });
}
