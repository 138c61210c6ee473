//! A panicking task becomes a `JoinError`; the runtime and the other tasks go on.
mod common;

use std::panic::{self, AssertUnwindSafe};
use weft_executor::{spawn, yield_now, Runtime};

#[test]
fn panic_in_task_is_isolated() {
    let rt = Runtime::new();
    rt.block_on(async {
        let bad = spawn(async {
            yield_now().await;
            panic!("task failed");
        });
        let good = spawn(async {
            for _ in 0..3 {
                yield_now().await;
            }
            7
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert_eq!(
            err.to_string(),
            "task panicked with message \"task failed\""
        );
        assert_eq!(good.await.unwrap(), 7);
    });
    // The runtime is still usable afterwards.
    assert_eq!(rt.block_on(async { spawn(async { 1 }).await.unwrap() }), 1);
}

#[test]
fn panic_with_string_payload_is_returned() {
    let rt = Runtime::new();
    let err = rt.block_on(async {
        spawn(async { panic!("code {}", std::hint::black_box(42)) })
            .await
            .unwrap_err()
    });
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "code 42");
}

#[test]
fn detached_panicking_task_does_not_stop_runtime() {
    let rt = Runtime::new();
    rt.block_on(async {
        drop(spawn(async { panic!("nobody listens") }));
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(rt.alive_tasks(), 0);
}

#[test]
fn panic_in_block_on_future_reaches_caller() {
    let rt = Runtime::new();
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { panic!("main failed") })
    }));
    let payload = r.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    // And the runtime can run again.
    assert_eq!(rt.block_on(async { 5 }), 5);
}

#[test]
fn panic_while_dropping_finished_future_is_reported() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }
    let rt = Runtime::new();
    rt.block_on(async {
        let h = spawn(async {
            let _p = PanicOnDrop;
            1
        });
        assert!(h.await.unwrap_err().is_panic());
    });
}
