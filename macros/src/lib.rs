//! weft-macros: `#[weft::main]` and `#[weft::test]` (under construction).
