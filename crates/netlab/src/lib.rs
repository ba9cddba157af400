//! # netlab — rawstack's rootless lab
//!
//! Raw sockets need `CAP_NET_RAW`. The lab gives a learner that capability
//! without sudo: a new user namespace (where you are root for the lab's
//! network only), a PID namespace (so tearing the lab down ends everything
//! started in it), and one network namespace per host, wired with veth pairs.
#![deny(unsafe_code)]
