//! Fuzzes the RESP command parser and frame parser with the properties in
//! `examples_common::check::resp`: no panic, no loop, bounded buffers, and the same result
//! however the input is cut into pieces.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| examples_common::check::resp(data));
