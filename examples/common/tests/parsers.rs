//! Property tests of the three parsers, run by `cargo test`: random bytes, cut into random
//! pieces, never make a parser panic, loop, hold more than its limit, or answer differently
//! depending on the cuts. The same checks run under cargo-fuzz (`scripts/fuzz.sh`), which
//! searches much longer; these keep the properties in CI.

use examples_common::check;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Bytes that matter to the protocols, so that random input reaches past the first byte.
const HTTP: &[u8] = b"GET POST HEAD / HTTP/1.0 HTTP/1.1 Content-Length: Transfer-Encoding: chunked \
                     Connection: close keep-alive Expect: 100-continue ,;=:\r\n\r\n 0 1 5 a f ff \t\x00\x80";
const RESP: &[u8] = b"*$:+-\r\n0123456789 -1 \"'\\xab\tPING GET SET";

/// Random input: a mix of random bytes and words of the protocol's alphabet.
fn input(alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        (0..alphabet.len(), 1..12usize)
            .prop_map(move |(at, len)| { alphabet[at..(at + len).min(alphabet.len())].to_vec() }),
    ];
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(word, 0..200),
    )
        .prop_map(|(a, b, words)| {
            let mut v = vec![a, b];
            v.extend(words.concat());
            v
        })
}

proptest! {
    // A fixed seed: CI runs the same cases every time (the fuzzer is where new ones are found).
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x5eed_f00d),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn http_requests(data in input(HTTP)) {
        check::http(&data);
    }

    #[test]
    fn resp_commands(data in input(RESP)) {
        check::resp(&data);
    }

    #[test]
    fn chat_lines(data in input(b"\r\n\r\nhello \xff\xfe /who")) {
        check::lines(&data);
    }
}

/// Inputs the fuzzer reported, kept so that they stay fine. None was a crash: libFuzzer
/// flagged this one as a "slow unit" (12 s) while the machine was overloaded; it runs in
/// milliseconds (a 1.2 KB head fed a byte at a time, re-parsed on each byte).
#[test]
fn fuzzer_reports() {
    check::http(include_bytes!("regressions/http-slow-unit-0e1f6600"));
}
