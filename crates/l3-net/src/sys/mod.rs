//! The one room with `unsafe`: raw IP sockets and their options.
#![allow(unsafe_code)]
