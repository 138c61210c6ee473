//! Signals arrive through the reactor. (Signals are process-wide: this file is its own test
//! binary so that no other test sees them.)

mod common;

use std::pin::pin;

use futures::{poll, StreamExt};
use weft_reactor::signal::unix::{signal, SignalKind};

fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory-safety preconditions; a handler for `signum` is
    // installed by the caller, so the process is not terminated.
    let rc = unsafe { libc::raise(signum) };
    assert_eq!(rc, 0);
}

#[test]
fn user_signal_stream() {
    common::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let mut other = signal(SignalKind::user_defined1()).unwrap();
        assert_eq!(usr1.kind(), SignalKind::user_defined1());
        for _ in 0..3 {
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
        }
        // Every listener of the signal sees it; the three deliveries coalesce into one.
        assert_eq!(other.next().await, Some(()));
        let mut recv = pin!(other.recv());
        assert!(poll!(recv.as_mut()).is_pending(), "nothing left to receive");
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    common::run(async {
        let mut ctrl_c = pin!(weft_reactor::signal::ctrl_c());
        // The first poll installs the handler.
        assert!(poll!(ctrl_c.as_mut()).is_pending());
        raise(libc::SIGINT);
        ctrl_c.await.unwrap();
    });
}

#[test]
fn uncatchable_signals_are_refused() {
    common::run(async {
        let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}
