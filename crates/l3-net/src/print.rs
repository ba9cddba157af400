//! IPv4 and ICMP decoders for layer 2's printer.
