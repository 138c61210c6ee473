//! [`PausableClock`]: the time of one timer, real or paused and moved by hand (tests).
//!
//! A paused clock stands still until [`advance`](crate::advance) moves it, or until the
//! driver finds the runtime idle and jumps it to the next timer's deadline (auto-advance), so
//! a test of an hour-long timeout runs in microseconds. The functions users call
//! ([`pause`](crate::pause), [`resume`](crate::resume), [`advance`](crate::advance)) are in
//! `pause.rs`.

use std::cell::Cell;

use crate::Instant;

/// The clock of one timer. Only its own thread touches it (`Cell`s).
///
/// Time reads `base + (real now - unfrozen)` while running, and `base` while paused.
#[derive(Debug)]
pub(crate) struct PausableClock {
    base: Cell<Instant>,
    /// The real time when the clock last started running; `None` while paused.
    unfrozen: Cell<Option<Instant>>,
    /// Whether it was ever paused: until then it reads the real clock with no arithmetic.
    shifted: Cell<bool>,
}

impl PausableClock {
    pub(crate) fn new(paused: bool) -> PausableClock {
        let now = Instant::real_now();
        PausableClock {
            base: Cell::new(now),
            unfrozen: Cell::new((!paused).then_some(now)),
            shifted: Cell::new(paused),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self.unfrozen.get() {
            None => self.base.get(),
            Some(_) if !self.shifted.get() => Instant::real_now(),
            Some(unfrozen) => {
                let ran = Instant::real_now().as_nanos() - unfrozen.as_nanos();
                Instant::from_nanos(self.base.get().as_nanos().saturating_add(ran))
            }
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.unfrozen.get().is_none()
    }

    #[track_caller]
    pub(crate) fn pause(&self) {
        assert!(!self.is_paused(), "the weft clock is already paused");
        self.base.set(self.now());
        self.unfrozen.set(None);
        self.shifted.set(true);
    }

    #[track_caller]
    pub(crate) fn resume(&self) {
        assert!(self.is_paused(), "the weft clock is not paused");
        self.unfrozen.set(Some(Instant::real_now()));
    }

    /// Moves a paused clock forward to `t` (never backward).
    #[track_caller]
    pub(crate) fn advance_to(&self, t: Instant) {
        assert!(
            self.is_paused(),
            "the weft clock is not paused: time::advance needs time::pause() or start_paused"
        );
        if t > self.base.get() {
            self.base.set(t);
        }
    }
}
