//! [`TcpStream`] and [`TcpListener`]: std::net's TCP, over our stack.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::netstack::{ListenerHandle, TcpHandle};
use super::runtime::Stack;
use crate::tcp::State;

/// A TCP connection over our stack, used like [`std::net::TcpStream`]:
/// `Read` and `Write` (also through `&TcpStream`, so one thread can read
/// while another writes), [`shutdown`](TcpStream::shutdown), timeouts.
///
/// Dropping it closes it *and waits* (up to
/// [`StackConfig::close_timeout`](super::StackConfig::close_timeout)) until
/// the peer has acknowledged our FIN: a program that writes and then ends
/// must not take its stack with it while the last data and the FIN are
/// still on their way. [`close`](TcpStream::close) does the same and says
/// how it went.
#[derive(Debug)]
pub struct TcpStream {
    stack: Stack,
    handle: TcpHandle,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    read_timeout: Mutex<Option<Duration>>,
    write_timeout: Mutex<Option<Duration>>,
    /// [`close`](TcpStream::close) already waited: Drop only lets go.
    closed: bool,
}

impl TcpStream {
    // ANCHOR: connect
    /// Opens a connection to `remote` and waits for the handshake: the
    /// stream, once the peer's SYN,ACK is acknowledged;
    /// [`io::ErrorKind::ConnectionRefused`] if the peer answers with a RST
    /// (nobody listens there); [`io::ErrorKind::TimedOut`] when our SYN
    /// was sent again and again without an answer
    /// ([`TcpConfig::max_retries`](crate::tcp::TcpConfig::max_retries));
    /// [`io::ErrorKind::HostUnreachable`] if nobody answers ARP for it.
    pub fn connect(stack: &Stack, remote: SocketAddrV4) -> io::Result<TcpStream> {
        TcpStream::connect_until(stack, remote, None)
    }
    // ANCHOR_END: connect

    /// [`connect`](TcpStream::connect), giving up (and aborting the
    /// attempt) with [`io::ErrorKind::TimedOut`] after `timeout`.
    pub fn connect_timeout(
        stack: &Stack,
        remote: SocketAddrV4,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        TcpStream::connect_until(stack, remote, Some(Instant::now() + timeout))
    }

    fn connect_until(
        stack: &Stack,
        remote: SocketAddrV4,
        deadline: Option<Instant>,
    ) -> io::Result<TcpStream> {
        let handle = stack.with(|net| net.tcp_connect(Instant::now(), remote))?;
        let established = stack.block_on(deadline, io::ErrorKind::TimedOut, |net| {
            match net.tcp_state(handle)? {
                State::SynSent | State::SynReceived => Err(io::ErrorKind::WouldBlock.into()),
                State::Closed => Err(net.tcp_error(handle)?.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::ConnectionAborted, "closed while opening")
                })),
                _ => net.tcp_endpoints(handle),
            }
        });
        match established {
            Ok((local, remote)) => Ok(TcpStream::new(stack.clone(), handle, local, remote)),
            Err(error) => {
                stack.with(|net| {
                    let _ = net.tcp_abort(Instant::now(), handle);
                    net.tcp_release(handle);
                });
                Err(error)
            }
        }
    }

    /// A stream for a connection the stack already has (accepted, or
    /// opened).
    fn new(stack: Stack, handle: TcpHandle, local: SocketAddrV4, remote: SocketAddrV4) -> Self {
        TcpStream {
            stack,
            handle,
            local,
            remote,
            read_timeout: Mutex::new(None),
            write_timeout: Mutex::new(None),
            closed: false,
        }
    }

    /// Our end of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        Ok(self.local)
    }

    /// The peer's end.
    pub fn peer_addr(&self) -> io::Result<SocketAddrV4> {
        Ok(self.remote)
    }

    /// Where the connection is in RFC 9293's state machine (std cannot
    /// tell you this; `ss -t` can, for the kernel's).
    pub fn state(&self) -> io::Result<State> {
        self.stack.lock().stack.tcp_state(self.handle)
    }

    /// How long a read waits for data (`None`: forever). A read that
    /// times out fails with [`io::ErrorKind::WouldBlock`], as std's does
    /// on Linux.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        *self
            .read_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
        Ok(())
    }

    /// How long a write waits for room in the send buffer (`None`:
    /// forever); [`io::ErrorKind::WouldBlock`] when it times out.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        *self
            .write_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = timeout;
        Ok(())
    }

    fn deadline(timeout: &Mutex<Option<Duration>>) -> Option<Instant> {
        timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|timeout| Instant::now() + timeout)
    }

    // ANCHOR: shutdown
    /// Shuts down one or both halves. `Write`: our FIN goes out after the
    /// data already written (RFC 9293's CLOSE), and the peer reads end of
    /// file; we can still read what it sends. `Read`: our reads say end of
    /// file, and what arrives is thrown away. Neither waits.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stack.with(|net| {
            if matches!(how, Shutdown::Write | Shutdown::Both) {
                net.tcp_shutdown_write(Instant::now(), self.handle)?;
            }
            if matches!(how, Shutdown::Read | Shutdown::Both) {
                net.tcp_shutdown_read(self.handle)?;
            }
            Ok::<(), io::Error>(())
        })?;
        // A reader asleep in another thread must see the change.
        self.stack.notify();
        Ok(())
    }
    // ANCHOR_END: shutdown

    /// Closes the connection and waits until the peer has acknowledged our
    /// FIN (at most [`close_timeout`](super::StackConfig::close_timeout)):
    /// `Ok` then; [`io::ErrorKind::TimedOut`] if it did not in time (the
    /// stack keeps trying alone); the connection's error if it failed.
    /// Dropping the stream does the same, silently.
    pub fn close(mut self) -> io::Result<()> {
        self.closed = true;
        self.close_and_wait()
    }

    // ANCHOR: close_and_wait
    /// CLOSE, then sleep until our FIN is acknowledged — FIN-WAIT-2,
    /// TIME-WAIT, or CLOSED after the peer's FIN and our ACK — or the
    /// connection fails, or the close timeout passes.
    fn close_and_wait(&self) -> io::Result<()> {
        let timeout = self.stack.lock().stack.config().close_timeout;
        let deadline = Instant::now() + timeout;
        let handle = self.handle;
        self.stack
            .with(|net| net.tcp_shutdown_write(Instant::now(), handle))?;
        self.stack
            .block_on(Some(deadline), io::ErrorKind::TimedOut, |net| {
                match net.tcp_fin_acked(handle)? {
                    true => Ok(()),
                    false => Err(io::ErrorKind::WouldBlock.into()),
                }
            })
    }
    // ANCHOR_END: close_and_wait

    /// A read, through `&self`.
    fn read_shared(&self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = TcpStream::deadline(&self.read_timeout);
        let handle = self.handle;
        self.stack
            .block_on(deadline, io::ErrorKind::WouldBlock, |net| {
                net.tcp_recv(handle, buf)
            })
    }

    /// A write, through `&self`.
    fn write_shared(&self, data: &[u8]) -> io::Result<usize> {
        let deadline = TcpStream::deadline(&self.write_timeout);
        let handle = self.handle;
        self.stack
            .block_on(deadline, io::ErrorKind::WouldBlock, |net| {
                net.tcp_send(handle, data)
            })
    }
}

impl Read for TcpStream {
    /// Waits until data has arrived, and copies it: `Ok(0)` is end of
    /// file (the peer closed its half); a reset is
    /// [`io::ErrorKind::ConnectionReset`].
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_shared(buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_shared(buf)
    }
}

impl Write for TcpStream {
    /// Waits until the send buffer has room, and copies as much as fits;
    /// the stack sends it as the peer's window allows.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_shared(data)
    }

    /// Nothing to do: what was written is already the stack's to send (as
    /// with std's `TcpStream`).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_shared(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TcpStream {
    /// Closes and waits for the FIN's ACK (unless [`close`](TcpStream::close)
    /// did), then hands the connection to the stack, which finishes it
    /// alone (TIME-WAIT, or retransmissions if the wait timed out).
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.close_and_wait();
        }
        let handle = self.handle;
        self.stack.with(|net| net.tcp_release(handle));
    }
}

/// A listening TCP port on our stack, used like [`std::net::TcpListener`].
/// Dropping it stops listening; connections it accepted live on.
#[derive(Debug)]
pub struct TcpListener {
    stack: Stack,
    handle: ListenerHandle,
    local: SocketAddrV4,
}

impl TcpListener {
    // ANCHOR: bind
    /// Listens on `port` of our address (an ephemeral port if 0), with the
    /// stack's [`backlog`](super::StackConfig::backlog).
    pub fn bind(stack: &Stack, port: u16) -> io::Result<TcpListener> {
        let backlog = stack.lock().stack.config().backlog;
        TcpListener::bind_with_backlog(stack, port, backlog)
    }
    // ANCHOR_END: bind

    /// Listens on `port`, holding at most `backlog` connections that are
    /// not yet accepted (half-open ones included). SYNs beyond are dropped
    /// without an answer, and their senders try again later.
    pub fn bind_with_backlog(stack: &Stack, port: u16, backlog: usize) -> io::Result<TcpListener> {
        let (handle, local) = stack.with(|net| {
            let handle = net.tcp_listen(port, backlog)?;
            Ok::<_, io::Error>((handle, net.tcp_listener_addr(handle)?))
        })?;
        Ok(TcpListener {
            stack: stack.clone(),
            handle,
            local,
        })
    }

    /// The address and port listened on.
    pub fn local_addr(&self) -> io::Result<SocketAddrV4> {
        Ok(self.local)
    }

    // ANCHOR: accept
    /// Waits for a connection whose handshake is complete, and takes it:
    /// the stream and the peer's address.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddrV4)> {
        let handle = self.handle;
        let (connection, remote) = self.stack.block_on(None, io::ErrorKind::TimedOut, |net| {
            net.tcp_accept(Instant::now(), handle)
        })?;
        let local = self.stack.lock().stack.tcp_endpoints(connection)?.0;
        let stream = TcpStream::new(self.stack.clone(), connection, local, remote);
        Ok((stream, remote))
    }
    // ANCHOR_END: accept

    /// The connections, one [`accept`](TcpListener::accept) at a time,
    /// forever.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

impl Drop for TcpListener {
    /// Stops listening; connections not yet accepted are reset.
    fn drop(&mut self) {
        let handle = self.handle;
        self.stack
            .with(|net| net.tcp_unlisten(Instant::now(), handle));
    }
}

/// The connections of a [`TcpListener`], as an iterator (std's
/// `TcpListener::incoming`).
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(stream, _)| stream))
    }
}
