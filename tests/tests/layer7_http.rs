//! Layer 7 in the lab: our HTTP/1.1 (the `http-get` and `http-serve`
//! exercises on raw, over our TCP/IP/Ethernet) against independent
//! servers and clients: alpha's always-on site (std::net, the kernel's
//! TCP), python3's `http.server`, and `curl`.
//!
//! The oracles: bytes computed here, by this file's own generator, for
//! alpha's `/big.bin`; files written here and compared byte for byte
//! after the trip; curl's own decoding of alpha's chunked page; curl's
//! and python's view of our server's status codes. Each test starts its
//! own fresh lab.

use std::process::Stdio;
use std::time::Duration;

use netlab::{Host, Lab};
use rawstack_tests::{
    Background, TempDir, arg, data_file, example, lab, python, require_program, run, xorshift_bytes,
};

const STARTUP: Duration = Duration::from_secs(20);
const RUN: Duration = Duration::from_secs(25);

/// The number of SYNs our stack sent, from `--trace` lines
/// (`198.18.0.2:PORT > …: Flags [S], …`).
fn syns_sent(trace: &str) -> usize {
    trace
        .lines()
        .filter(|line| line.contains("198.18.0.2:") && line.contains(": Flags [S],"))
        .filter(|line| {
            line.split(" > ")
                .next()
                .is_some_and(|from| from.contains("198.18.0.2:"))
        })
        .count()
}

#[test]
fn http_get_fetches_alphas_5_mib_and_more_pages_over_one_connection() {
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l7-http-get");
    let big = dir.path().join("big.bin");
    let about = dir.path().join("about.html");
    let chunked = dir.path().join("chunked.txt");
    let mut get = lab.command(Host::Raw, example("l7-app", "http-get"));
    get.arg("--trace")
        .args(["http://www.lab.test/big.bin", "-o", arg(&big)])
        .args(["http://www.lab.test/about.html", "-o", arg(&about)])
        .args(["http://www.lab.test/chunked", "-o", arg(&chunked)])
        .stdin(Stdio::null());
    let (code, _, stderr) = run(get);
    assert_eq!(code, Some(0), "http-get: {stderr}");

    // 5 MiB, byte for byte what the documented generator makes.
    let expected = xorshift_bytes(netlab::helper::services::http::BIG_SEED, 5 << 20);
    let got = std::fs::read(&big).expect("read big.bin");
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "big.bin differs from the generator's bytes"
    );

    // The name came from alpha's DNS server, through our resolver, once.
    assert_eq!(
        stderr
            .matches("* Resolved www.lab.test to 198.18.0.1 (DNS, 198.18.0.1:53")
            .count(),
        1,
        "{stderr}"
    );
    // The exchange as curl -v shows it.
    assert!(stderr.contains("> GET /big.bin HTTP/1.1"), "{stderr}");
    assert!(stderr.contains("> Host: www.lab.test"), "{stderr}");
    assert!(stderr.contains("< HTTP/1.1 200 OK"), "{stderr}");
    assert!(stderr.contains("< Content-Length: 5242880"), "{stderr}");
    assert!(stderr.contains("< Transfer-Encoding: chunked"), "{stderr}");
    // Three requests, one TCP connection: one SYN of ours on the wire,
    // and the client said it reused the connection twice.
    assert_eq!(syns_sent(&stderr), 1, "{stderr}");
    assert_eq!(
        stderr.matches("* Re-using existing connection").count(),
        2,
        "{stderr}"
    );

    // The other two bodies, against curl's fetch of the same pages from
    // alpha itself (curl decodes the chunked coding on its own).
    for (path, file) in [("/about.html", &about), ("/chunked", &chunked)] {
        let mut curl = lab.command(Host::Alpha, "curl");
        curl.args(["-sS", &format!("http://198.18.0.1{path}")]);
        let out = curl.output().expect("run curl");
        assert!(out.status.success(), "curl {path}");
        let ours = std::fs::read(file).expect("read our copy");
        assert!(!ours.is_empty());
        assert_eq!(ours, out.stdout, "{path}: our body and curl's");
    }
}

/// python3's http.server on alpha, port 8000, serving `argv[1]`.
const PYTHON_HTTP_SERVER: &str = r#"
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("198.18.0.1", 8000), handler)
print("ready", file=sys.stderr, flush=True)
server.serve_forever()
"#;

#[test]
fn http_get_fetches_from_pythons_http_server() {
    if !require_program("python3", "python3") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l7-python-http");
    let served = dir.path().join("www");
    std::fs::create_dir_all(&served).expect("mkdir");
    let data = xorshift_bytes(0x5e4e_d0c5, 3 << 20);
    std::fs::write(served.join("data.bin"), &data).expect("write data");
    let mut server_command = lab.command(Host::Alpha, "python3");
    server_command.args(["-c", PYTHON_HTTP_SERVER, arg(&served)]);
    let mut server = Background::spawn(server_command);
    server.wait_for_stderr("ready", STARTUP);

    let out = dir.path().join("got.bin");
    let mut get = lab.command(Host::Raw, example("l7-app", "http-get"));
    get.args(["http://198.18.0.1:8000/data.bin", "-o", arg(&out)])
        .stdin(Stdio::null());
    let (code, _, stderr) = run(get);
    assert_eq!(code, Some(0), "http-get: {stderr}");
    assert!(stderr.contains("> Host: 198.18.0.1:8000"), "{stderr}");
    assert!(stderr.contains(" 200 OK"), "{stderr}");
    let got = std::fs::read(&out).expect("read what arrived");
    assert!(got == data, "{} bytes, expected {}", got.len(), data.len());
    drop(server);
}

/// Sends `argv[1]` (with `\r\n` escapes) to our server, prints the status
/// line of the answer.
const RAW_REQUEST: &str = r#"
import socket, sys
conn = socket.create_connection(("198.18.0.2", 80), timeout=10)
conn.sendall(sys.argv[1].encode().decode("unicode_escape").encode("latin-1"))
answer = b""
while b"\r\n" not in answer:
    chunk = conn.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.split(b"\r\n")[0].decode())
conn.close()
"#;

fn raw_request(lab: &Lab, request: &str) -> String {
    let mut python = lab.command(Host::Alpha, "python3");
    python.args(["-c", RAW_REQUEST, request]);
    let (code, stdout, stderr) = run(python);
    assert_eq!(code, Some(0), "python3: {stderr}");
    stdout.trim().to_string()
}

#[test]
fn curl_fetches_from_our_server_which_survives_bad_requests() {
    if !require_program("curl", "curl") || !require_program("python3", "python3") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l7-http-serve");
    let served = dir.path().join("site");
    std::fs::create_dir_all(served.join("sub")).expect("mkdir");
    let (_, one) = data_file(&served, "one.bin", 2 << 20, 0x0e);
    let (_, two) = data_file(&served.join("sub"), "two.bin", 300_000, 0x2e);
    std::fs::write(served.join("index.html"), "<h1>our stack</h1>\n").expect("index");
    std::fs::write(dir.path().join("secret.txt"), "outside the root").expect("secret");

    // Connections: curl ×2 URLs (1), curl 404 (1), four raw requests (4),
    // curl again (1).
    let mut command = lab.command(Host::Raw, example("l7-app", "http-serve"));
    command.args([arg(&served), "--count", "7"]);
    let mut server = Background::spawn(command);
    server.wait_for_stderr("serving", STARTUP);

    // Two files in one curl run: one kept-alive connection.
    let out_one = dir.path().join("one.out");
    let out_two = dir.path().join("two.out");
    let mut curl = lab.command(Host::Alpha, "curl");
    curl.args(["-sS", "-v", "--fail"])
        .args(["http://198.18.0.2/one.bin", "-o", arg(&out_one)])
        .args(["http://198.18.0.2/sub/two.bin", "-o", arg(&out_two)]);
    let (code, _, stderr) = run(curl);
    assert_eq!(code, Some(0), "curl: {stderr}");
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
    assert!(std::fs::read(&out_one).expect("one") == one, "one.bin");
    assert!(std::fs::read(&out_two).expect("two") == two, "two.bin");

    let mut missing = lab.command(Host::Alpha, "curl");
    missing.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://198.18.0.2/missing.html",
    ]);
    let (code, stdout, stderr) = run(missing);
    assert_eq!(code, Some(0), "curl: {stderr}");
    assert_eq!(stdout, "404");

    assert_eq!(
        raw_request(&lab, r"GARBAGE\r\n\r\n"),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        raw_request(&lab, r"GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n"),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        raw_request(&lab, r"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
        "HTTP/1.1 505 HTTP Version Not Supported"
    );
    assert_eq!(
        raw_request(&lab, r"DELETE /one.bin HTTP/1.1\r\nHost: x\r\n\r\n"),
        "HTTP/1.1 405 Method Not Allowed"
    );

    // Still serving.
    let mut again = lab.command(Host::Alpha, "curl");
    again.args(["-sS", "--fail", "http://198.18.0.2/"]);
    let (code, stdout, stderr) = run(again);
    assert_eq!(code, Some(0), "curl: {stderr}");
    assert_eq!(stdout, "<h1>our stack</h1>\n");

    let (code, log, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "http-serve: {stderr}");
    // One line per request; a client that hangs up without reading all
    // (python3 above) may add a line about the reset, not counted.
    let statuses: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("] \""))
        .filter_map(|line| line.rsplit(' ').nth(1))
        .collect();
    assert_eq!(
        statuses,
        ["200", "200", "404", "400", "400", "505", "405", "200"],
        "{log}"
    );
    assert!(
        log.contains("\"GET /one.bin HTTP/1.1\" 200 2097152"),
        "{log}"
    );
}

/// A slow loris on alpha: the start of a request head, then one byte
/// every 100 ms, never the empty line. Prints when our server hung up.
const SLOW_LORIS: &str = r#"
import socket, sys, time
loris = socket.create_connection(("198.18.0.2", 80), timeout=10)
loris.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
start = time.monotonic()
sys.stderr.write("ready\n")
sys.stderr.flush()
loris.settimeout(0.1)
verdict = "still open after 10 s"
while time.monotonic() - start < 10:
    try:
        loris.sendall(b"X")
        data = loris.recv(100)
    except socket.timeout:
        continue
    except (BrokenPipeError, ConnectionResetError):
        data = b""
    if data:
        verdict = "answered: %r" % data[:40]
    else:
        verdict = "hung up after %.2f s" % (time.monotonic() - start)
    break
print(verdict)
"#;

#[test]
fn a_slow_loris_is_hung_up_on_while_everyone_else_is_served() {
    if !require_program("curl", "curl") || !require_program("python3", "python3") {
        return;
    }
    let Some(lab) = lab() else { return };
    let dir = TempDir::new("l7-http-loris");
    std::fs::write(dir.path().join("index.html"), "<h1>still here</h1>\n").expect("index");

    // Connections: the loris, curl, an oversize head, curl again.
    let head_timeout = Duration::from_secs(3);
    let mut command = lab.command(Host::Raw, example("l7-app", "http-serve"));
    command.args([arg(dir.path()), "--count", "4", "--head-timeout", "3"]);
    let mut server = Background::spawn(command);
    server.wait_for_stderr("serving", STARTUP);

    let loris_started = std::time::Instant::now();
    let loris = python(&lab, Host::Alpha, SLOW_LORIS, &[], STARTUP);

    let fetch = || {
        let mut curl = lab.command(Host::Alpha, "curl");
        curl.args(["-sS", "--fail", "--max-time", "5", "http://198.18.0.2/"]);
        run(curl)
    };
    let (code, page, stderr) = fetch();
    assert_eq!(code, Some(0), "curl while the loris trickles: {stderr}");
    assert_eq!(page, "<h1>still here</h1>\n");
    // 200 header fields: more than the server allows (Limits::max_fields, 100).
    let oversize = format!(
        r"GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        r"X-A: b\r\n".repeat(200)
    );
    assert_eq!(
        raw_request(&lab, &oversize),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    let (code, page, stderr) = fetch();
    assert_eq!(code, Some(0), "curl again: {stderr}");
    assert_eq!(page, "<h1>still here</h1>\n");
    // All of that happened while the loris was still connected.
    let others_done = loris_started.elapsed();
    assert!(
        others_done < head_timeout,
        "the others took {others_done:?}"
    );

    let (code, verdict, stderr) = loris.finish(RUN);
    assert_eq!(code, Some(0), "loris: {stderr}");
    let after: f64 = verdict
        .trim()
        .strip_prefix("hung up after ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .unwrap_or_else(|| panic!("the loris was not hung up on: {verdict}"))
        .parse()
        .expect("seconds");
    assert!(
        (2.5..6.0).contains(&after),
        "hung up {after} s after the head began; the deadline is 3 s"
    );

    let (code, log, stderr) = server.finish(RUN);
    assert_eq!(code, Some(0), "http-serve: {stderr}");
    let statuses: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("] \""))
        .filter_map(|line| line.rsplit(' ').nth(1))
        .collect();
    assert_eq!(statuses, ["200", "431", "200"], "{log}");
}
