//! The Echo Protocol (RFC 862): whatever a client sends comes back.
//! TCP: every byte received on a connection is sent back until the client
//! closes. UDP: every datagram is sent back to its sender.

use std::io;
use std::net::{Shutdown, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

/// After an error that may repeat at once (EMFILE), wait this long before
/// trying again, rather than spin.
const BACKOFF: Duration = Duration::from_millis(100);

/// Binds TCP and UDP echo on `address` and serves them from two threads
/// (plus one per TCP connection).
pub fn start(address: SocketAddrV4) -> io::Result<()> {
    let listener = TcpListener::bind(address)?;
    let socket = UdpSocket::bind(address)?;
    thread::spawn(move || serve_tcp(&listener));
    thread::spawn(move || serve_udp(&socket));
    Ok(())
}

fn serve_tcp(listener: &TcpListener) {
    for connection in listener.incoming() {
        match connection {
            Ok(stream) => {
                // A connection's errors (a reset, say) are its client's
                // business, and often the very thing a learner is testing:
                // the connection just ends, quietly.
                thread::spawn(move || echo_stream(stream));
            }
            Err(error) => {
                eprintln!("echo (tcp): accept: {error}");
                thread::sleep(BACKOFF);
            }
        }
    }
}

/// Copies what arrives back out, then closes our side after the client's
/// end-of-file, so the client sees everything echoed and then EOF.
fn echo_stream(stream: TcpStream) -> io::Result<()> {
    let mut reader = stream.try_clone()?;
    let mut writer = stream;
    io::copy(&mut reader, &mut writer)?;
    writer.shutdown(Shutdown::Write)
}

fn serve_udp(socket: &UdpSocket) {
    // The largest UDP payload over IPv4 (65535 − 20 − 8), so nothing is cut.
    let mut buffer = vec![0; 65507];
    loop {
        match socket.recv_from(&mut buffer) {
            Ok((length, sender)) => {
                if let Err(error) = socket.send_to(&buffer[..length], sender) {
                    eprintln!("echo (udp): to {sender}: {error}");
                }
            }
            Err(error) => {
                eprintln!("echo (udp): {error}");
                thread::sleep(BACKOFF);
            }
        }
    }
}
