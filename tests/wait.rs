//! `wait` with each `ReturnWhen`, `as_completed` order, `shield`, and `gather` over handles
//! (asyncio's `return_exceptions=True`).

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;

use futures::{FutureExt, StreamExt};
use weft::task::TaskState;
use weft::{as_completed, shield, wait, yield_now, JoinHandle, ReturnWhen};

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// A task that yields `n` times, then returns `n`.
fn after(n: usize) -> JoinHandle<usize> {
    weft::spawn(async move {
        yields(n).await;
        n
    })
}

fn ids<T>(hs: &[JoinHandle<T>]) -> Vec<weft::task::TaskId> {
    hs.iter().map(JoinHandle::id).collect()
}

#[test]
fn first_completed() {
    weft::run(async {
        let hs = vec![after(10), after(1), after(20)];
        let want_pending = vec![hs[0].id(), hs[2].id()];
        let (done, pending) = wait(hs, ReturnWhen::FirstCompleted).await;
        assert_eq!(done.len(), 1);
        assert_eq!(ids(&pending), want_pending, "pending keeps the input order");
        // A done handle resolves at once.
        let first = done.into_iter().next().unwrap();
        assert_eq!(first.now_or_never().unwrap().unwrap(), 1);
        // The pending ones were not cancelled.
        for h in pending {
            assert!(!h.is_finished());
            assert!(h.await.is_ok());
        }
    });
}

#[test]
fn all_completed() {
    weft::run(async {
        let hs = vec![after(3), after(1), after(2)];
        let want = ids(&hs);
        let (done, pending) = wait(hs, ReturnWhen::AllCompleted).await;
        assert!(pending.is_empty());
        assert_eq!(ids(&done), want, "done keeps the input order");
        let outs: Vec<usize> = done
            .into_iter()
            .map(|h| h.now_or_never().unwrap().unwrap())
            .collect();
        assert_eq!(outs, [3, 1, 2]);
    });
}

#[test]
fn first_exception_returns_on_a_panic() {
    weft::run(async {
        let ok = weft::spawn(async { yields(1).await });
        let boom = weft::spawn(async {
            yields(3).await;
            panic!("boom");
        });
        let stuck = weft::spawn(pending::<()>());
        let (ok_id, boom_id, stuck_id) = (ok.id(), boom.id(), stuck.id());
        let (done, pending) = wait([ok, boom, stuck], ReturnWhen::FirstException).await;
        assert_eq!(ids(&done), [ok_id, boom_id]);
        assert_eq!(ids(&pending), [stuck_id]);
        assert_eq!(done[1].state(), TaskState::Panicked);
        let mut done = done.into_iter();
        assert!(done.next().unwrap().await.is_ok());
        assert!(done.next().unwrap().await.unwrap_err().is_panic());
        pending[0].cancel();
    });
}

#[test]
fn first_exception_ignores_err_values_and_cancellations() {
    // Documented: only a panic counts. With no panic, it waits for all (ALL_COMPLETED).
    weft::run(async {
        let err = weft::spawn(async { Err::<(), _>("a value, not an exception") });
        let cancelled = weft::spawn(async {
            pending::<()>().await;
            Ok(())
        });
        let late = weft::spawn(async {
            yields(5).await;
            Ok(())
        });
        cancelled.cancel();
        let (done, pending) = wait([err, cancelled, late], ReturnWhen::FirstException).await;
        assert_eq!(done.len(), 3);
        assert!(pending.is_empty());
    });
}

#[test]
fn first_exception_with_a_panic_already_there() {
    weft::run(async {
        let boom = weft::spawn(async { panic!("early") });
        yield_now().await;
        let stuck = weft::spawn(pending::<()>());
        let (done, pending) = wait([stuck, boom], ReturnWhen::FirstException).await;
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        pending[0].cancel();
    });
}

#[test]
fn wait_on_nothing_returns_at_once() {
    weft::run(async {
        let (done, pending) = wait(Vec::<JoinHandle<()>>::new(), ReturnWhen::AllCompleted)
            .now_or_never()
            .unwrap();
        assert!(done.is_empty() && pending.is_empty());
    });
}

#[test]
fn dropping_a_wait_detaches_and_does_not_cancel() {
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    weft::run(async move {
        let h = weft::spawn(async move {
            yields(3).await;
            r.set(true);
        });
        let w = wait([h], ReturnWhen::AllCompleted);
        assert!(w.now_or_never().is_none());
        yields(10).await;
    });
    assert!(ran.get());
}

#[test]
fn as_completed_yields_tasks_in_completion_order() {
    weft::run(async {
        let hs = [5, 1, 3, 0, 2].map(after);
        let stream = as_completed(hs);
        assert_eq!(stream.len(), 5);
        let order: Vec<usize> = stream.map(Result::unwrap).collect().await;
        assert_eq!(order, [0, 1, 2, 3, 5]);
    });
}

#[test]
fn as_completed_polls_plain_futures_in_place() {
    weft::run(async {
        let futs = [4, 2, 3, 1].map(|n| async move {
            yields(n).await;
            n
        });
        let order: Vec<usize> = as_completed(futs).collect().await;
        assert_eq!(order, [1, 2, 3, 4]);
        // Polled in place: no task was spawned.
        assert!(weft::all_tasks().is_empty());
    });
}

#[test]
fn as_completed_reports_panics_and_cancellations() {
    weft::run(async {
        let boom = weft::spawn(async {
            yields(2).await;
            panic!("boom");
        });
        let gone = weft::spawn(pending::<()>());
        let fine = weft::spawn(async { yields(4).await });
        gone.cancel();
        let results: Vec<_> = as_completed([boom, gone, fine]).collect().await;
        assert!(results[0].as_ref().unwrap_err().is_cancelled());
        assert!(results[1].as_ref().unwrap_err().is_panic());
        assert!(results[2].is_ok());
    });
}

#[test]
fn shield_survives_the_cancelled_waiter() {
    let saved = Rc::new(Cell::new(false));
    let s = saved.clone();
    weft::run(async move {
        let task = weft::spawn(async move {
            yields(3).await;
            s.set(true);
            "done"
        });
        let id = task.id();
        let waiter = weft::spawn(async move { shield(task).await });
        yield_now().await;
        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert!(
            weft::all_tasks().iter().any(|t| t.id == id),
            "the shielded task lives on"
        );
        yields(5).await;
    });
    assert!(saved.get());
}

#[test]
fn shield_dropped_by_select_does_not_cancel() {
    weft::run(async {
        let task = weft::spawn(async {
            yields(5).await;
            7
        });
        let shielded = shield(task);
        let id = shielded.id();
        let got = weft::select! {
            biased;
            v = async { 0 } => v,
            v = shielded => v.unwrap(),
        };
        assert_eq!(got, 0);
        yield_now().await;
        assert!(
            weft::all_tasks().iter().any(|t| t.id == id),
            "still running"
        );
    });
}

#[test]
fn shield_into_inner_gives_the_power_back() {
    weft::run(async {
        let s = shield(weft::spawn(pending::<()>()));
        assert!(!s.is_finished());
        let h = s.into_inner();
        h.cancel();
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn gather_over_handles_returns_every_result() {
    weft::run(async {
        let ok = weft::spawn(async { 1 });
        let boom = weft::spawn(async {
            yield_now().await;
            panic!("boom")
        });
        let gone = weft::spawn(pending::<i32>());
        gone.cancel();
        let results = weft::gather([ok, boom, gone]).await;
        assert_eq!(results.len(), 3);
        assert_eq!(*results[0].as_ref().unwrap(), 1);
        assert!(results[1].as_ref().unwrap_err().is_panic());
        assert!(results[2].as_ref().unwrap_err().is_cancelled());
    });
}

#[weft::test(start_paused = true)]
async fn as_completed_yields_in_deadline_order_on_the_paused_clock() {
    use futures_util::StreamExt;
    use std::time::Duration;

    let delays = [30u64, 10, 50, 20, 40];
    let handles: Vec<_> = delays
        .iter()
        .map(|&ms| {
            weft::spawn(async move {
                weft::sleep(Duration::from_secs(ms)).await;
                ms
            })
        })
        .collect();
    let start = weft::time::Instant::now();
    let mut order = Vec::new();
    let mut stream = weft::as_completed(handles);
    while let Some(r) = stream.next().await {
        let ms = r.unwrap();
        // Each arrives exactly at its own (paused) deadline.
        assert_eq!(start.elapsed().as_secs(), ms);
        order.push(ms);
    }
    assert_eq!(order, [10, 20, 30, 40, 50]);
}
