//! Layer 3 wire formats: IPv4 and ICMPv4, sans-IO.
