//! Fuzzes the chat server's line splitter with the properties in
//! `examples_common::check::lines`: no panic, no loop, bounded buffers, and the same result
//! however the input is cut into pieces.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| examples_common::check::lines(data));
