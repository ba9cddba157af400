//! Our own IPv4 host and router, sans-IO: frames and the time in, frames out.
