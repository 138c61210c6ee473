//! weft-channel (under construction).
