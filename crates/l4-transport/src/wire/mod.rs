//! Layer 4 wire formats: UDP and TCP, sans-IO.
