//! `netlab serve-alpha`: the servers always running on alpha, like the
//! servers on a real network a learner's stack talks to.
//!
//! Written with std::net (the kernel's TCP/UDP), so the lab needs nothing
//! but Rust and Linux. Each service is a module with a `start(address)` that
//! binds its sockets (so a failure is reported before `listening`) and
//! serves from its own threads, blocked in the kernel while idle. They run
//! inside the lab's PID namespace and end with it.
//!
//! - [`echo`] — TCP and UDP echo, port 7 (RFC 862).
//! - [`dns`] — the zone `lab.test`, UDP and TCP port 53 (RFC 1035).
//! - [`http`] — a small web site, TCP port 80 (RFC 9112).

pub mod dns;
pub mod echo;
pub mod http;

use std::io::{self, Write};
use std::net::SocketAddrV4;
use std::process::ExitCode;

use crate::topology::{ALPHA_IP, ECHO_PORT};

/// Runs `netlab serve-alpha`: starts every service, prints `listening`,
/// and serves until the lab ends.
pub fn serve_alpha() -> ExitCode {
    if let Err(error) = start_all() {
        println!("error: {error}");
        return ExitCode::FAILURE;
    }
    println!("listening");
    let _ = io::stdout().flush();
    loop {
        // The services' threads do the work; this one only keeps the
        // process alive. park() may wake spuriously: park again.
        std::thread::park();
    }
}

fn start_all() -> io::Result<()> {
    echo::start(SocketAddrV4::new(ALPHA_IP, ECHO_PORT))?;
    dns::start(SocketAddrV4::new(ALPHA_IP, dns::DNS_PORT))?;
    http::start(SocketAddrV4::new(ALPHA_IP, http::HTTP_PORT))?;
    Ok(())
}
