//! What every exercise shares: finding the lab, explaining privilege errors,
//! and the exit codes (0 ok, 1 nothing answered, 2 bad usage, 77 missing
//! privilege).
