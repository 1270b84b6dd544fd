//! A loopback TCP relay, for third-party clients that bring their own listener.
//!
//! An ACME client's http-01 or tls-alpn-01 listener binds a port the test picks
//! ([`free_port`](crate::free_port)), and that port could be taken between the
//! pick and the client's bind. The gateway's validators cannot follow a new
//! port without a restart (the ports are configuration), so they connect to a
//! relay instead: its listener is bound once and held for the whole test, and it
//! forwards every connection, byte for byte, to the client's current port. When
//! the client reports that its port is taken ([`port_taken`]), the test points
//! the relay at a new port ([`Relay::retarget`]) and runs the client again;
//! nothing else changes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A held loopback listener forwarding to `127.0.0.1:<target>`; stopped when dropped.
pub struct Relay {
    port: u16,
    target: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Binds 127.0.0.1 port 0 and forwards each accepted connection to `127.0.0.1:target`.
    pub fn start(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(target));
        let stop = Arc::new(AtomicBool::new(false));
        let (to, stopping) = (target.clone(), stop.clone());
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(inbound) = inbound else { continue };
                let target = to.load(Ordering::SeqCst);
                std::thread::spawn(move || forward(inbound, target));
            }
        });
        Relay { port, target, stop }
    }

    /// The port the relay listens on (what the gateway's validators connect to).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port connections are forwarded to (where the client listens).
    pub fn target(&self) -> u16 {
        self.target.load(Ordering::SeqCst)
    }

    /// Forwards later connections to another port.
    pub fn retarget(&self, target: u16) {
        self.target.store(target, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag and releases the port.
        let _ =
            TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_secs(1));
    }
}

/// Copies both ways between the inbound connection and the target until both sides close.
/// If nothing listens on the target, the inbound connection is closed: the validator
/// sees what it would see without a listener.
fn forward(inbound: TcpStream, target: u16) {
    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let (Ok(inbound_read), Ok(outbound_read)) = (inbound.try_clone(), outbound.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || pump(inbound_read, outbound));
    pump(outbound_read, inbound);
    let _ = upstream.join();
}

/// Copies `from` into `to` until `from` ends, then ends `to`'s writing side.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Whether a client's output says its listener could not bind because the port is taken
/// (lego: `bind: address already in use`; certbot: `Could not bind TCP port N because it
/// is already in use`, or `Problem binding to port N`).
pub fn port_taken(output: &str) -> bool {
    let output = output.to_lowercase();
    output.contains("address already in use")
        || output.contains("already in use by another process")
        || output.contains("problem binding to port")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    let mut text = String::new();
                    stream.read_to_string(&mut text).unwrap();
                    stream
                        .write_all(format!("{port}:{text}").as_bytes())
                        .unwrap();
                });
            }
        });
        port
    }

    fn ask(relay: &Relay, text: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", relay.port())).unwrap();
        stream.write_all(text.as_bytes()).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn a_relay_forwards_both_ways_and_follows_a_new_target() {
        let (first, second) = (echo_server(), echo_server());
        let relay = Relay::start(first);
        assert_eq!(ask(&relay, "hello"), format!("{first}:hello"));
        relay.retarget(second);
        assert_eq!(relay.target(), second);
        assert_eq!(ask(&relay, "again"), format!("{second}:again"));
        let port = relay.port();
        drop(relay);
        // The port is released once the relay is gone.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while TcpListener::bind(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "port {port} still held"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn taken_ports_are_recognized_in_client_output() {
        assert!(port_taken(
            "2024/01/01 [INFO] acme: error: listen tcp 127.0.0.1:40001: bind: address already in use"
        ));
        assert!(port_taken(
            "Could not bind TCP port 40001 because it is already in use by another process on this system"
        ));
        assert!(port_taken(
            "Problem binding to port 40001: Could not bind to IPv4 or IPv6."
        ));
        assert!(!port_taken("Some challenges have failed."));
    }
}
