//! The one room with `unsafe`: libc calls for AF_PACKET sockets, ioctls and
//! socket options. Every `unsafe` block carries a `// SAFETY:` note.
#![allow(unsafe_code)]
