//! `cargo xtask book --serve`: a small static file server on 127.0.0.1 that
//! rebuilds the book when its sources change.
//!
//! mdbook-driver builds books but serves nothing, so this is the smallest
//! server that does the job: HTTP/1.1 `GET` and `HEAD`, one thread per
//! connection, `Connection: close`. A second thread looks at the
//! modification times of the book's inputs once a second (the chapters and
//! every file they include, so editing an anchored listing in a crate
//! rebuilds too) and rebuilds on a change. A read-write lock keeps a
//! request from reading a page while mdBook rewrites it. There is no live
//! reload: refresh the browser.
//!
//! It listens on 127.0.0.1 only, by construction: the address is
//! [`Ipv4Addr::LOCALHOST`], not an argument.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, SystemTime};

use super::{BookPaths, Built};

/// Serves `book.build` on 127.0.0.1:`port` until the process is stopped,
/// rebuilding when any of `inputs` (or anything in the book's directory)
/// changes.
pub(super) fn serve(
    book: &BookPaths,
    port: u16,
    inputs: BTreeSet<PathBuf>,
) -> crate::Result<ExitCode> {
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let listener = TcpListener::bind(address).map_err(|err| {
        format!("cannot listen on {address}: {err} (is another server running? try --port)")
    })?;
    println!(
        "book: serving http://{address}/ (rebuilds on change; refresh the browser; Ctrl-C stops)"
    );

    // Readers are requests; the one writer is a rebuild.
    let build_lock = Arc::new(RwLock::new(()));
    let watcher = Watcher {
        book: book.clone(),
        inputs,
        build_lock: Arc::clone(&build_lock),
    };
    thread::spawn(move || watcher.run());

    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let build_dir = book.build.clone();
        let build_lock = Arc::clone(&build_lock);
        thread::spawn(move || {
            // A client that goes away mid-request is not our problem.
            let _ = handle_connection(stream, &build_dir, &build_lock);
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Polls the book's inputs and rebuilds when they change.
struct Watcher {
    book: BookPaths,
    /// The files the last check read (chapters and included files).
    inputs: BTreeSet<PathBuf>,
    build_lock: Arc<RwLock<()>>,
}

/// A file's identity for change detection: its modification time and size.
type Stamp = (PathBuf, Option<SystemTime>, u64);

impl Watcher {
    fn run(mut self) {
        let mut last = self.stamps();
        loop {
            thread::sleep(Duration::from_secs(1));
            let now = self.stamps();
            if now == last {
                continue;
            }
            println!("book: sources changed, rebuilding");
            let _writing = self
                .build_lock
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match self.book.check_then_build() {
                Ok(Built::Yes(inputs)) => self.inputs = inputs,
                // The problems are printed; keep serving the last good build.
                Ok(Built::No) => {}
                Err(err) => eprintln!("book: {err}"),
            }
            // Stamp again after the build: a new include may be watched now.
            last = self.stamps();
        }
    }

    /// Stamps of everything a rebuild depends on: every file under the
    /// book's directory except the build output (new chapters, images,
    /// book.toml, a theme), plus the included files elsewhere.
    fn stamps(&self) -> Vec<Stamp> {
        let mut files = BTreeSet::new();
        collect_files(&self.book.root, &self.book.build, &mut files);
        files.extend(self.inputs.iter().cloned());
        files
            .into_iter()
            .map(|path| {
                let metadata = fs::metadata(&path).ok();
                let modified = metadata.as_ref().and_then(|m| m.modified().ok());
                let len = metadata.map_or(0, |m| m.len());
                (path, modified, len)
            })
            .collect()
    }
}

/// Adds every file under `dir` to `files`, skipping the directory `skip`.
fn collect_files(dir: &Path, skip: &Path, files: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == skip {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_files(&path, skip, files),
            Ok(_) => {
                files.insert(path);
            }
            Err(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP

/// A response, before it is written.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    reason: &'static str,
    content_type: &'static str,
    /// For a redirect.
    location: Option<String>,
    body: Vec<u8>,
}

impl Response {
    fn text(status: u16, reason: &'static str) -> Response {
        Response {
            status,
            reason,
            content_type: "text/plain; charset=utf-8",
            location: None,
            body: format!("{status} {reason}\n").into_bytes(),
        }
    }
}

/// Reads one request from `stream`, answers it and closes.
fn handle_connection(
    mut stream: TcpStream,
    build_dir: &Path,
    build_lock: &RwLock<()>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let head = read_request_head(&mut stream)?;
    let request_line = head.lines().next().unwrap_or("");
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));

    let response = match method {
        "GET" | "HEAD" => {
            let _reading = build_lock
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            respond(build_dir, target)
        }
        _ => Response::text(405, "Method Not Allowed"),
    };

    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nConnection: close\r\n",
        response.status,
        response.reason,
        response.content_type,
        response.body.len()
    );
    if let Some(location) = &response.location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&response.body)?;
    }
    stream.flush()
}

/// The request line and headers, up to the blank line (at most 16 KiB).
fn read_request_head(stream: &mut TcpStream) -> io::Result<String> {
    const LIMIT: usize = 16 * 1024;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < LIMIT {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The response to `GET target` for a site in `build_dir`.
fn respond(build_dir: &Path, target: &str) -> Response {
    let Some(url_path) = decode_url_path(target) else {
        return Response::text(400, "Bad Request");
    };
    let Some(relative) = site_path(&url_path) else {
        return Response::text(404, "Not Found");
    };
    let mut file = build_dir.join(relative);
    if file.is_dir() {
        // `/layer2` must become `/layer2/`, or the page's relative links
        // would resolve against `/`.
        if !url_path.ends_with('/') {
            return Response {
                location: Some(format!("{url_path}/")),
                ..Response::text(301, "Moved Permanently")
            };
        }
        file.push("index.html");
    }
    match fs::read(&file) {
        Ok(body) => Response {
            status: 200,
            reason: "OK",
            content_type: content_type(&file),
            location: None,
            body,
        },
        Err(_) => match fs::read(build_dir.join("404.html")) {
            Ok(body) => Response {
                status: 404,
                reason: "Not Found",
                content_type: "text/html; charset=utf-8",
                location: None,
                body,
            },
            Err(_) => Response::text(404, "Not Found"),
        },
    }
}

/// The path of a request target with its query and fragment removed and
/// `%XX` escapes decoded; `None` if it is not a path or not UTF-8.
fn decode_url_path(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let mut bytes = Vec::with_capacity(path.len());
    let mut rest = path.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The file path under the site root for a decoded URL path, or `None`
/// for anything that could leave the site root (`..`, a backslash, a NUL,
/// a drive or root component).
fn site_path(url_path: &str) -> Option<PathBuf> {
    if url_path.contains(['\\', '\0']) {
        return None;
    }
    let relative = Path::new(url_path.trim_start_matches('/'));
    let mut clean = PathBuf::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(clean)
}

/// The Content-Type for the files mdBook writes.
fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|ext| ext.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_decode_and_lose_query_and_fragment() {
        assert_eq!(
            decode_url_path("/a%20b.html?x=1#top").as_deref(),
            Some("/a b.html")
        );
        assert_eq!(decode_url_path("/"), Some("/".to_string()));
        assert_eq!(decode_url_path("http://elsewhere/"), None);
        assert_eq!(decode_url_path("/bad%2"), None);
        assert_eq!(decode_url_path("/bad%zz"), None);
        assert_eq!(decode_url_path("/%ff"), None, "not UTF-8");
    }

    #[test]
    fn paths_cannot_leave_the_site() {
        assert_eq!(
            site_path("/layer2/frames.html"),
            Some(PathBuf::from("layer2/frames.html"))
        );
        assert_eq!(
            site_path("/./index.html"),
            Some(PathBuf::from("index.html"))
        );
        assert_eq!(site_path("/"), Some(PathBuf::new()));
        assert_eq!(site_path("/../secret"), None);
        assert_eq!(site_path("/layer2/../../secret"), None);
        // `%2e%2e` decodes to `..` before this check, so it is caught too.
        assert_eq!(site_path(&decode_url_path("/%2e%2e/secret").unwrap()), None);
        assert_eq!(site_path("/a\\..\\b"), None);
        assert_eq!(site_path("//etc/passwd"), Some(PathBuf::from("etc/passwd")));
    }

    #[test]
    fn serves_files_redirects_directories_and_404s() {
        let site = std::env::temp_dir().join(format!("rawstack-book-serve-{}", std::process::id()));
        fs::create_dir_all(site.join("layer2")).unwrap();
        fs::write(site.join("index.html"), "home").unwrap();
        fs::write(site.join("layer2/index.html"), "part").unwrap();
        fs::write(site.join("404.html"), "missing").unwrap();

        let home = respond(&site, "/");
        assert_eq!((home.status, home.body.as_slice()), (200, &b"home"[..]));
        assert_eq!(home.content_type, "text/html; charset=utf-8");
        let moved = respond(&site, "/layer2");
        assert_eq!(
            (moved.status, moved.location.as_deref()),
            (301, Some("/layer2/"))
        );
        assert_eq!(respond(&site, "/layer2/").body, b"part");
        let missing = respond(&site, "/nope.html");
        assert_eq!(
            (missing.status, missing.body.as_slice()),
            (404, &b"missing"[..])
        );
        assert_eq!(respond(&site, "/../index.html").status, 404);

        fs::remove_dir_all(&site).unwrap();
    }
}
