//! Adapters that run other ecosystems' libraries on weft.
//!
//! Each adapter lives behind the cargo feature of the same name, so that weft itself pulls in
//! no third-party stack by default:
//!
//! | feature | module | gives |
//! |---|---|---|
//! | `hyper` | [`hyper`](mod@hyper) | hyper 1.x's `rt::{Read, Write, Executor, Timer}` on weft's I/O, tasks and timer |

pub mod hyper;
