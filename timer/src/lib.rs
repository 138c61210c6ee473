//! weft-timer (under construction).
