//! Signals, delivered through the reactor: [`ctrl_c`] and, on Unix, [`unix::signal`].
//!
//! Each [`unix::Signal`] listener owns a socket pair: a handler registered with
//! `signal-hook-registry` writes a byte to one end (`write(2)` is async-signal-safe), and
//! the other end is registered with the runtime's driver like any socket, so a signal wakes
//! the waiting task through the ordinary I/O path. Several listeners (in any runtimes, on
//! any threads) may watch the same signal: each is notified. Deliveries that arrive before
//! the listener reads them are coalesced into one.
//!
//! As in tokio, once a signal has had a listener, its default action (terminating the
//! process, for `SIGINT` and `SIGTERM`) is replaced for the rest of the process's life, even
//! after the listener is dropped.

use std::io;

/// Completes when the process receives `SIGINT` (Ctrl-C in a terminal).
///
/// The handler is installed at the first poll; a `SIGINT` that arrives before that is not
/// seen (and, if no other listener exists, terminates the process as usual).
///
/// # Errors
///
/// When the handler cannot be installed, or no weft runtime is running on this thread.
///
/// # Examples
///
/// ```no_run
/// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
/// # rt.block_on(async {
/// weft_reactor::signal::ctrl_c().await?;
/// println!("interrupted: shutting down");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other("the signal listener closed")),
    }
}

/// Unix signals as streams, as tokio's `tokio::signal::unix`.
pub mod unix {
    use std::fmt;
    use std::io::{self, Read, Write};
    use std::os::raw::c_int;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use futures_core::Stream;

    use crate::io::{Direction, PollEvented};

    /// A kind of Unix signal: a signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_reactor::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate(), SignalKind::from_raw(15));
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), 2);
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct SignalKind(c_int);

    impl SignalKind {
        /// The signal with number `signum`.
        pub const fn from_raw(signum: c_int) -> SignalKind {
            SignalKind(signum)
        }

        /// This signal's number.
        pub const fn as_raw_value(&self) -> c_int {
            self.0
        }

        /// `SIGALRM`.
        pub const fn alarm() -> SignalKind {
            SignalKind(libc::SIGALRM)
        }

        /// `SIGCHLD`.
        pub const fn child() -> SignalKind {
            SignalKind(libc::SIGCHLD)
        }

        /// `SIGHUP`.
        pub const fn hangup() -> SignalKind {
            SignalKind(libc::SIGHUP)
        }

        /// `SIGINT` (Ctrl-C).
        pub const fn interrupt() -> SignalKind {
            SignalKind(libc::SIGINT)
        }

        /// `SIGIO`.
        pub const fn io() -> SignalKind {
            SignalKind(libc::SIGIO)
        }

        /// `SIGPIPE`.
        pub const fn pipe() -> SignalKind {
            SignalKind(libc::SIGPIPE)
        }

        /// `SIGQUIT`.
        pub const fn quit() -> SignalKind {
            SignalKind(libc::SIGQUIT)
        }

        /// `SIGTERM`.
        pub const fn terminate() -> SignalKind {
            SignalKind(libc::SIGTERM)
        }

        /// `SIGUSR1`.
        pub const fn user_defined1() -> SignalKind {
            SignalKind(libc::SIGUSR1)
        }

        /// `SIGUSR2`.
        pub const fn user_defined2() -> SignalKind {
            SignalKind(libc::SIGUSR2)
        }

        /// `SIGWINCH`.
        pub const fn window_change() -> SignalKind {
            SignalKind(libc::SIGWINCH)
        }
    }

    impl From<c_int> for SignalKind {
        fn from(signum: c_int) -> SignalKind {
            SignalKind(signum)
        }
    }

    /// Listens for `kind`: installs the handler now, and returns the stream of its
    /// deliveries.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for signals that cannot be handled (`SIGKILL`, `SIGSTOP`, `SIGILL`,
    /// `SIGFPE`, `SIGSEGV`) or do not exist; an error when no weft runtime is running on
    /// this thread.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_reactor::signal::unix::{signal, SignalKind};
    /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// # rt.block_on(async {
    /// let mut term = signal(SignalKind::terminate())?;
    /// term.recv().await;
    /// println!("SIGTERM: shutting down");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn signal(kind: SignalKind) -> io::Result<Signal> {
        let signum = kind.0;
        if signum < 0 || signal_hook_registry::FORBIDDEN.contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signum} cannot be handled"),
            ));
        }
        let (receiver, sender) = mio::net::UnixStream::pair()?;
        let receiver = PollEvented::new(receiver)?;
        let sender: std::os::unix::net::UnixStream = sender.into();
        let action = move || {
            // A full socket already holds a pending wake-up: the error is of no interest.
            let _ = (&sender).write(&[1]);
        };
        // SAFETY: `action` runs inside a signal handler. It only calls `write(2)` (through
        // std, which makes no allocation and takes no lock on this path) on a non-blocking
        // socket that it owns, and ignores the result, so it is async-signal-safe and cannot
        // block or panic; signal-hook-registry preserves `errno` around it.
        #[allow(unsafe_code)]
        let id = unsafe { signal_hook_registry::register(signum, action) }
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(Signal { receiver, id, kind })
    }

    /// The deliveries of one signal, from [`signal`]. Implements
    /// [`Stream`]`<Item = ()>`, which never ends.
    ///
    /// Dropping it removes its handler (the signal stays caught, see the
    /// [module docs](crate::signal)).
    pub struct Signal {
        receiver: PollEvented<mio::net::UnixStream>,
        id: signal_hook_registry::SigId,
        kind: SignalKind,
    }

    impl Signal {
        /// Waits for the next delivery. Deliveries since the last `recv` count as one.
        /// Returns `None` only if the runtime has shut down.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe: a delivery is consumed only by a call that returns it.
        ///
        /// # Examples
        ///
        /// ```
        /// use weft_reactor::signal::unix::{signal, SignalKind};
        /// # let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
        /// # rt.block_on(async {
        /// let mut usr1 = signal(SignalKind::user_defined1())?;
        /// std::process::Command::new("kill")
        ///     .args(["-USR1", &std::process::id().to_string()])
        ///     .status()?;
        /// usr1.recv().await;
        /// # Ok::<(), std::io::Error>(())
        /// # }).unwrap();
        /// ```
        pub async fn recv(&mut self) -> Option<()> {
            std::future::poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// Polls for the next delivery.
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
            let mut buf = [0u8; 64];
            let read = ready!(self
                .receiver
                .poll_io(cx, Direction::Read, |mut r| r.read(&mut buf)));
            Poll::Ready(match read {
                Ok(n) if n > 0 => Some(()),
                _ => None,
            })
        }

        /// The signal this listens for.
        pub fn kind(&self) -> SignalKind {
            self.kind
        }
    }

    impl Stream for Signal {
        type Item = ();

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
            self.get_mut().poll_recv(cx)
        }
    }

    impl Drop for Signal {
        fn drop(&mut self) {
            signal_hook_registry::unregister(self.id);
        }
    }

    impl fmt::Debug for Signal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Signal").field("kind", &self.kind).finish()
        }
    }
}
