//! The internet checksum (RFC 1071), its incremental update (RFC 1624), and the IPv4 pseudo-header that UDP and TCP add to theirs.
