//! `JoinSet`: results in completion order, failures do not spread, dropping cancels.

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;

use weft::{yield_now, JoinSet};

struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn join_next_in_completion_order() {
    weft::run(async {
        let mut set = JoinSet::new();
        for n in [3, 0, 2, 1] {
            set.spawn(async move {
                yields(n).await;
                n
            });
        }
        assert_eq!(set.len(), 4);
        let mut order = Vec::new();
        while let Some(res) = set.join_next().await {
            order.push(res.unwrap());
        }
        assert_eq!(order, [0, 1, 2, 3]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn a_panic_does_not_cancel_the_others() {
    weft::run(async {
        let mut set = JoinSet::new();
        set.spawn(async {
            yield_now().await;
            panic!("boom");
        });
        set.spawn(async { yields(3).await });
        let first = set.join_next().await.unwrap();
        assert!(first.unwrap_err().is_panic());
        assert!(set.join_next().await.unwrap().is_ok());
    });
}

#[test]
fn abort_handle_and_ids() {
    weft::run(async {
        let mut set = JoinSet::new();
        let a = set.spawn(pending::<()>());
        let b = set.spawn(async {});
        a.abort();
        let mut seen = Vec::new();
        while let Some((id, res)) = set.join_next_with_id().await {
            seen.push((id, res.is_ok()));
        }
        seen.sort();
        let mut want = vec![(a.id(), false), (b.id(), true)];
        want.sort();
        assert_eq!(seen, want);
    });
}

#[test]
fn cancel_all_then_results_are_cancelled() {
    weft::run(async {
        let mut set: JoinSet<()> = (0..3).map(|_| pending::<()>()).collect();
        yield_now().await;
        set.cancel_all();
        let mut n = 0;
        while let Some(res) = set.join_next().await {
            assert!(res.unwrap_err().is_cancelled());
            n += 1;
        }
        assert_eq!(n, 3);
    });
}

#[test]
fn shutdown_cancels_and_empties() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    weft::run(async move {
        let mut set = JoinSet::new();
        for _ in 0..4 {
            let c = DropCounter(d.clone());
            set.spawn(async move {
                let _c = c;
                pending::<()>().await
            });
        }
        yield_now().await;
        set.shutdown().await;
        assert!(set.is_empty());
        assert_eq!(d.get(), 4);
        assert!(weft::all_tasks().is_empty());
    });
    assert_eq!(drops.get(), 4);
}

#[test]
fn dropping_the_set_cancels_its_tasks() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    weft::run(async move {
        let mut set = JoinSet::new();
        for _ in 0..2 {
            let c = DropCounter(d.clone());
            set.spawn(async move {
                let _c = c;
                pending::<()>().await
            });
        }
        yield_now().await;
        drop(set);
        assert_eq!(d.get(), 2);
        assert!(weft::all_tasks().is_empty());
    });
}

#[test]
fn detach_all_lets_them_run() {
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    weft::run(async move {
        let mut set = JoinSet::new();
        for _ in 0..2 {
            let r = r.clone();
            set.spawn(async move {
                yields(2).await;
                r.set(r.get() + 1);
            });
        }
        set.detach_all();
        drop(set);
        yields(5).await;
    });
    assert_eq!(ran.get(), 2);
}

#[test]
fn try_join_next_does_not_wait() {
    weft::run(async {
        let mut set = JoinSet::new();
        set.spawn(async { 1 });
        set.spawn(pending::<i32>());
        assert!(set.try_join_next().is_none());
        yield_now().await;
        assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
        assert!(set.try_join_next().is_none());
        assert_eq!(set.len(), 1);
    });
}

/// A task whose future holds a set (and a handle it cancels when dropped) is dropped by the
/// runtime's shutdown, after the runtime has taken every task out of its list: the cancels
/// that drop makes find their tasks already out. (It once panicked with a vacant slot, and
/// the panic inside a drop during shutdown aborted the process.)
#[test]
fn a_set_inside_a_task_at_runtime_shutdown() {
    struct CancelOnDrop(weft::JoinHandle<()>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        weft::spawn(async {
            let mut set = JoinSet::new();
            let _guard = CancelOnDrop(weft::spawn(std::future::pending::<()>()));
            set.spawn(std::future::pending::<()>());
            std::future::pending::<()>().await
        });
        for _ in 0..10 {
            weft::yield_now().await;
        }
    });
    drop(rt); // the shutdown drops all three futures
}
