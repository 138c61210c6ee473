//! `select!`: tokio's syntax, each element of it, and its promises (futures evaluated once,
//! pinned inside, polled until complete and never after, dropped before the handler).

use std::cell::Cell;
use std::future::{pending, Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use weft::yield_now;

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

async fn after<T>(n: usize, v: T) -> T {
    yields(n).await;
    v
}

/// Counts its polls; ready with `value` on poll number `ready_at` (1-based). Panics if
/// polled after it returned `Ready`.
struct Probe<T> {
    polls: Rc<Cell<usize>>,
    ready_at: usize,
    value: Option<T>,
}

impl<T> Probe<T> {
    fn new(ready_at: usize, value: T) -> (Probe<T>, Rc<Cell<usize>>) {
        let polls = Rc::new(Cell::new(0));
        let probe = Probe {
            polls: polls.clone(),
            ready_at,
            value: Some(value),
        };
        (probe, polls)
    }
}

impl<T> Unpin for Probe<T> {}

impl<T> Future for Probe<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let n = self.polls.get() + 1;
        self.polls.set(n);
        if n >= self.ready_at {
            return Poll::Ready(self.value.take().expect("polled after Ready"));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn the_first_ready_branch_wins() {
    weft::run(async {
        let got = weft::select! {
            a = after(5, "slow") => a,
            b = after(1, "fast") => b,
            c = pending::<&str>() => c,
        };
        assert_eq!(got, "fast");
    });
}

#[test]
fn biased_polls_in_order() {
    weft::run(async {
        for _ in 0..50 {
            let got = weft::select! {
                biased;
                a = async { 1 } => a,
                b = async { 2 } => b,
            };
            assert_eq!(got, 1);
        }
    });
}

#[test]
fn unbiased_starts_at_a_random_branch() {
    weft::run(async {
        let mut wins = [0; 3];
        for _ in 0..300 {
            let i = weft::select! {
                i = async { 0 } => i,
                i = async { 1 } => i,
                i = async { 2 } => i,
            };
            wins[i] += 1;
        }
        assert!(wins.iter().all(|&w| w > 30), "{wins:?}");
    });
}

#[test]
fn false_precondition_disables_the_branch_but_evaluates_its_future() {
    weft::run(async {
        let evaluated = Cell::new(0);
        let (probe, polls) = Probe::new(1, "disabled");
        let cond = false;
        let got = weft::select! {
            v = { evaluated.set(evaluated.get() + 1); probe }, if cond => v,
            v = after(2, "enabled"), if 1 + 1 == 2 => v,
        };
        assert_eq!(got, "enabled");
        assert_eq!(evaluated.get(), 1, "evaluated once");
        assert_eq!(polls.get(), 0, "never polled");
    });
}

#[test]
fn non_matching_pattern_disables_the_branch() {
    weft::run(async {
        let (probe, polls) = Probe::new(1, None::<u32>);
        let got = weft::select! {
            biased;
            Some(v) = probe => v,
            v = after(3, 7) => v,
        };
        assert_eq!(got, 7);
        assert_eq!(polls.get(), 1, "polled until complete, never after");
    });
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    weft::run(async {
        let got = weft::select! {
            Some(v) = async { None::<u8> } => v,
            Ok(v) = async { Err::<u8, ()>(()) } => v,
            else => 42,
        };
        assert_eq!(got, 42);
        let off = false;
        let got = weft::select! {
            v = pending::<u8>(), if off => v,
            else => { 43 }
        };
        assert_eq!(got, 43);
    });
}

#[test]
fn only_an_else_branch() {
    weft::run(async {
        let got = weft::select! {
            else => "only",
        };
        assert_eq!(got, "only");
    });
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn no_else_panics_when_every_branch_is_disabled() {
    weft::run(async {
        weft::select! {
            Some(v) = async { None::<u8> } => unreachable!("{v}"),
        }
    });
}

#[test]
fn losing_futures_are_dropped_before_the_handler() {
    weft::run(async {
        let drops = Rc::new(Cell::new(0));
        let c = DropCounter(drops.clone());
        let loser = async move {
            let _c = c;
            pending::<()>().await
        };
        weft::select! {
            _ = loser => unreachable!(),
            _ = yields(2) => assert_eq!(drops.get(), 1),
        }
    });
}

#[test]
fn handlers_may_use_what_the_futures_borrowed() {
    weft::run(async {
        let mut buf = vec![1];
        async fn push(buf: &mut Vec<i32>, v: i32) -> usize {
            yield_now().await;
            buf.push(v);
            buf.len()
        }
        weft::select! {
            n = push(&mut buf, 2) => {
                buf.push(3); // the future holding `&mut buf` is gone
                assert_eq!(n, 2);
            }
        }
        assert_eq!(buf, [1, 2, 3]);
    });
}

#[test]
fn break_continue_and_question_mark_in_handlers() {
    async fn run() -> Result<u32, String> {
        let mut total = 0;
        let mut round = 0;
        loop {
            round += 1;
            weft::select! {
                v = async { round } => {
                    if v == 2 {
                        continue;
                    }
                    if v == 5 {
                        break;
                    }
                    total += v;
                }
            }
        }
        let parsed: u32 = weft::select! {
            s = async { "10" } => s.parse::<u32>().map_err(|e| e.to_string())?,
        };
        let _: u32 = weft::select! {
            s = async { "x" } => s.parse::<u32>().map_err(|e| e.to_string())?,
        };
        Ok(total + parsed)
    }
    weft::run(async {
        let err = run().await.unwrap_err();
        assert!(err.contains("invalid digit"), "{err}");
    });
}

#[test]
fn patterns_with_mut_ref_ranges_and_tuples() {
    weft::run(async {
        let got = weft::select! {
            mut v = async { 1 } => {
                v += 1;
                v
            }
        };
        assert_eq!(got, 2);
        let got = weft::select! {
            Some(ref s) = async { Some(String::from("ref")) } => s.len(),
        };
        assert_eq!(got, 3);
        let got = weft::select! {
            biased;
            1..=5 = async { 9 } => "small",
            (a, b) = async { (1, 2) } => if a + b == 3 { "tuple" } else { "?" },
        };
        assert_eq!(got, "tuple");
        let got = weft::select! {
            _ = async {} => Vec::<u8>::with_capacity(3).capacity() >= 3,
        };
        assert!(got);
    });
}

#[test]
fn block_handlers_need_no_comma() {
    weft::run(async {
        let got = weft::select! {
            biased;
            a = async { 1 } => { a * 10 }
            b = async { 2 } => { b * 10 }
            else => { 0 }
        };
        assert_eq!(got, 10);
    });
}

#[test]
fn into_future_values_and_join_handles() {
    struct Later(u8);
    impl IntoFuture for Later {
        type Output = u8;
        type IntoFuture = std::future::Ready<u8>;
        fn into_future(self) -> Self::IntoFuture {
            std::future::ready(self.0)
        }
    }
    weft::run(async {
        let h = weft::spawn(after(1, 5u8));
        let got = weft::select! {
            biased;
            Ok(v) = h => v,
            v = Later(9) => v,
        };
        // `Later` is ready first; the handle is dropped, which detaches its task.
        assert_eq!(got, 9);
    });
}

#[test]
fn pending_branches_are_polled_until_one_completes() {
    weft::run(async {
        let (slow, slow_polls) = Probe::new(4, "slow");
        let (never, never_polls) = Probe::new(usize::MAX, "never");
        let got = weft::select! {
            v = never => v,
            v = slow => v,
        };
        assert_eq!(got, "slow");
        assert_eq!(slow_polls.get(), 4);
        assert!((3..=4).contains(&never_polls.get()));
    });
}

#[test]
fn nested_select() {
    weft::run(async {
        let got = weft::select! {
            v = async {
                weft::select! {
                    x = after(1, 1) => x + 100,
                    y = pending::<i32>() => y,
                }
            } => v,
            w = after(10, 0) => w,
        };
        assert_eq!(got, 101);
    });
}

#[test]
fn join_and_try_join() {
    weft::run(async {
        let (a, b, c) = weft::join!(after(2, 1), after(1, "b"), async { 3.0 });
        assert_eq!((a, b, c), (1, "b", 3.0));
        let ok: Result<(i32, i32), &str> = weft::try_join!(async { Ok(1) }, after(3, Ok(2)));
        assert_eq!(ok, Ok((1, 2)));
        let err: Result<(i32, i32), &str> =
            weft::try_join!(after(1, Err("first")), pending::<Result<i32, &str>>());
        assert_eq!(err, Err("first"));
    });
}
