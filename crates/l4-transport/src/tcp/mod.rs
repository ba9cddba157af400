//! A sans-IO TCP (RFC 9293): segments and the time in, segments out.
