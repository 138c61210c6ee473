//! The timer benches' insert-and-cancel step, shared by `benches/timer.rs` and the
//! instruction-count guard (`benches/guard/instr.rs`).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

/// Creates one timer future per offset into `buf`, polls each once in place (registering
/// it), then drops them all in place (cancelling them).
pub async fn insert_then_cancel<F: Future>(
    buf: &mut Vec<F>,
    offs: &[Duration],
    make: impl Fn(Duration) -> F,
) {
    assert!(buf.is_empty() && buf.capacity() >= offs.len());
    for &o in offs {
        buf.push(make(o));
    }
    poll_fn(|cx| {
        for f in buf.iter_mut() {
            // SAFETY: the futures are never moved after this: `buf` had the capacity for all
            // of them before the first push (asserted above), nothing is pushed or removed
            // until `clear` below, and `clear` (or the Vec's drop, on unwind) drops them in
            // place before their memory is reused.
            let _ = unsafe { Pin::new_unchecked(f) }.poll(cx);
        }
        Poll::Ready(())
    })
    .await;
    buf.clear();
}
