//! weft-reactor (under construction).
