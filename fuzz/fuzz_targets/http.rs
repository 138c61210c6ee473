//! Fuzzes the HTTP/1.1 request parser and connection state machine with the properties in
//! `examples_common::check::http`: no panic, no loop, bounded buffers, and the same result
//! however the input is cut into pieces.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| examples_common::check::http(data));
