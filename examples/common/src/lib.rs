//! What weft's example servers share, in one place so that each is written once.
//!
//! - [`http`], [`resp`] and [`lines`]: the protocols, without I/O, so that tests, property
//!   tests and the fuzz targets in `fuzz/` drive them with any bytes in any pieces. Every one
//!   of them bounds what a peer can make it hold.
//! - [`serve`]: the accept loop with its connection cap, the server's [`serve::Mode`]
//!   (serving, full, draining), and writes with a deadline.
//! - [`workers`]: the same server on `--workers N` thread-per-core workers, one listener
//!   each on the port (`SO_REUSEPORT`), stopped gracefully by Ctrl-C.
//! - [`logger`]: a `log` logger that never blocks the serving thread and drops lines past a
//!   rate.
//! - [`cli`]: command-line options, each limit with its default, listed by `--help`.
//! - [`check`]: the properties the parsers keep on any input, for the fuzz targets and the
//!   property tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod http;
pub mod lines;
pub mod logger;
pub mod resp;
pub mod serve;
pub mod workers;
