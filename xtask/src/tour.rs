//! `cargo xtask tour` — the main job: a guided run, in a fresh lab, of every
//! exercise that exists so far, saying what each one shows and which chapter
//! of the book explains it. It grows with each layer.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use netlab::{Host, Lab, LabError};

/// Bytes the lossy step sends to alpha's echo service: enough for a few
/// dozen losses at 5%, done in seconds.
const LOSSY_ECHO_BYTES: usize = 256 * 1024;

/// Arguments of `cargo xtask tour`.
#[derive(clap::Args)]
pub struct TourArgs {
    /// Where to leave the captures the tour makes (default: target/tour).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `cargo xtask tour`.
pub fn run(args: TourArgs) -> crate::Result<ExitCode> {
    let root = crate::workspace_root();
    let out = args.out.unwrap_or_else(|| root.join("target/tour"));
    std::fs::create_dir_all(&out)?;

    banner("Building the exercises");
    let [sniff, send_frame, arping] =
        build_examples(&root, "l2-link", ["sniff", "send-frame", "arping"])?;
    let [ping, traceroute, host, router] =
        build_examples(&root, "l3-net", ["ping", "traceroute", "host", "router"])?;
    let [syn_scan, tcp_client] = build_examples(&root, "l4-transport", ["syn-scan", "tcp-client"])?;
    let [journey] = build_examples(&root, "l7-app", ["journey"])?;

    banner("Starting a fresh lab");
    let lab = match Lab::start() {
        Ok(lab) => lab,
        Err(LabError::Unsupported(reason)) => {
            eprintln!("The lab cannot run on this machine: {reason}");
            return Ok(ExitCode::from(77));
        }
        Err(err) => return Err(err.into()),
    };
    say(&[
        "Three hosts, each its own network namespace, wired with veth cables:",
        "",
        "  alpha 198.18.0.1 [lab0]====[lab1] raw (kernel 198.18.0.3; our stack 198.18.0.2)",
        "                                [lab2] raw ====[lab3] beta 198.18.1.1   (MTU 1280)",
        "",
        "You are root over this lab's network only: raw sockets work, nothing leaves.",
    ]);

    step(
        "Layer 2: your own protocol on your own EtherType",
        "book: Layer 2 › Your own protocol on your own EtherType, book/src/layer2/custom-protocol.md",
        &[
            "alpha listens for frames of EtherType 0x88B5; raw sends one, with text inside.",
            "Ethernet only carries bytes: the EtherType tells the receiver how to read them.",
        ],
    );
    let mut listener = start_on(&lab, Host::Alpha, &send_frame, &["--listen", "-c", "1"])?;
    wait_until_listening(&mut listener)?;
    run_on(&lab, Host::Raw, &send_frame, &["hello from the tour"])?;
    finish(listener, "send-frame --listen", Host::Alpha)?;

    step(
        "Layer 2: ARP — who has 198.18.0.1?",
        "book: Layer 2 › ARP: who has this address?, book/src/layer2/arp.md",
        &[
            "raw asks, as our stack's identity 02:00:00:00:00:12 / 198.18.0.2, a machine",
            "alpha's kernel has never heard of. alpha's kernel answers with lab0's MAC.",
            "A sniffer on alpha shows both frames, with an annotated hex dump.",
        ],
    );
    let capture = out.join("arp.pcap");
    let capture_arg = capture.to_string_lossy().into_owned();
    let mut sniffer = start_on(
        &lab,
        Host::Alpha,
        &sniff,
        &["-c", "2", "--ethertype", "0x0806", "-x", "-w", &capture_arg],
    )?;
    wait_until_listening(&mut sniffer)?;
    run_on(&lab, Host::Raw, &arping, &["-c", "1"])?;
    finish(sniffer, "sniff", Host::Alpha)?;

    step(
        "Layer 2: reading the capture back",
        "book: Layer 2 › pcap: captures Wireshark can open, book/src/layer2/pcap.md",
        &["The sniffer wrote a classic pcap file; our reader decodes it, and so does Wireshark."],
    );
    run_here(&sniff, &["-r", &capture_arg])?;
    if program_exists("tshark") {
        run_here(Path::new("tshark"), &["-n", "-r", &capture_arg])?;
    } else {
        println!("(install tshark to see Wireshark's dissection of the same file)");
    }

    step(
        "Layer 3: ping, through the kernel's raw ICMP socket",
        "book: Layer 3 › ICMP and ping, book/src/layer3/ping.md",
        &[
            "Our ping builds each ICMP echo request itself; raw's kernel adds the IPv4",
            "header, finds alpha's MAC with ARP and sends the frame. alpha's kernel answers.",
            "The round-trip times come from kernel timestamps on both ends.",
        ],
    );
    run_on(&lab, Host::Raw, &ping, &["-c", "3", "-i", "0.2"])?;

    step(
        "Layer 3: our own host, 198.18.0.2",
        "book: Layer 3 › A userspace host, book/src/layer3/host.md",
        &[
            "Now nothing of the kernel's is involved on raw: our host owns 198.18.0.2 and",
            "MAC 02:00:00:00:00:12 on lab1, answers ARP and ICMP echo itself, over an",
            "AF_PACKET socket. alpha pings it; its log says what it did.",
        ],
    );
    let host_run = start_on(&lab, Host::Raw, &host, &["--duration", "3"])?;
    let host_run = wait_for_ready(host_run)?;
    run_on(
        &lab,
        Host::Alpha,
        &ping,
        &["-c", "2", "-i", "0.2", "198.18.0.2"],
    )?;
    finish(host_run, "host", Host::Raw)?;

    step(
        "Layer 3: our router between alpha and beta",
        "book: Layer 3 › A router, book/src/layer3/router.md",
        &[
            "beta sits behind raw's lab2 (MTU 1280), reachable only through our router,",
            "which forwards between 198.18.0.0/24 and 198.18.1.0/24, decrements TTL and",
            "answers time-exceeded. traceroute from alpha shows it as the first hop.",
        ],
    );
    let router_run = start_on(&lab, Host::Raw, &router, &["--duration", "6"])?;
    let router_run = wait_for_ready(router_run)?;
    run_on(
        &lab,
        Host::Alpha,
        &traceroute,
        &["-q", "1", "-w", "1", "198.18.1.1"],
    )?;
    run_on(
        &lab,
        Host::Beta,
        &ping,
        &["-c", "2", "-i", "0.2", "198.18.0.1"],
    )?;
    finish(router_run, "router", Host::Raw)?;

    step(
        "Layer 4: a SYN scan of alpha",
        "book: Layer 4 › A SYN scanner, book/src/layer4/syn-scan.md",
        &[
            "A SYN to each port, through raw's kernel: a SYN-ACK means open, a RST closed.",
            "alpha runs its echo service on port 7; the other ports answer RST.",
        ],
    );
    run_on(&lab, Host::Raw, &syn_scan, &["-p", "1-100"])?;

    step(
        "Layer 4: our TCP talks to alpha's kernel",
        "book: Layer 4 › The handshake, segment by segment, book/src/layer4/handshake.md",
        &[
            "Our own TCP, over our own IPv4 and Ethernet, connects to alpha's echo service:",
            "the three-way handshake, the data and its echo, and the two FINs, one line per",
            "segment (--trace). Every byte of every segment was built by rawstack.",
        ],
    );
    run_with_input(
        &lab,
        Host::Raw,
        &tcp_client,
        &["--trace"],
        b"hello, alpha, from our own TCP\n",
    )?;

    step(
        "Layer 4: our TCP on a lossy wire, and its picture",
        "book: Layer 4 › Congestion control, book/src/layer4/congestion.md",
        &[
            "The same client, but our stack now throws away 5% of its frames, going out and",
            "coming in (--loss 5; --seed picks which, so every run loses the same ones).",
            "256 KiB go to alpha's echo service and come back; TCP notices each loss and",
            "sends the data again. --plot draws the connection as a time–sequence graph.",
        ],
    );
    let plot = out.join("lossy-echo.svg");
    let plot_arg = plot.to_string_lossy().into_owned();
    let payload: Vec<u8> = (0..LOSSY_ECHO_BYTES).map(|i| b"rawstack "[i % 9]).collect();
    let echoed = run_with_input_counting(
        &lab,
        Host::Raw,
        &tcp_client,
        &["-v", "--loss", "5", "--seed", "3", "--plot", &plot_arg],
        &payload,
    )?;
    if echoed != payload {
        return Err(format!(
            "the echo differs: {} bytes sent, {} came back",
            payload.len(),
            echoed.len()
        )
        .into());
    }
    say(&[
        &format!(
            "All {} bytes came back, byte for byte, despite the losses.",
            echoed.len()
        ),
        &format!(
            "The picture is in {} — open it in a browser:",
            plot.display()
        ),
        "  - blue ticks climbing to the right: each one a segment, from its first byte to",
        "    its last; the slope of the staircase is the throughput;",
        "  - red ticks below the top of the staircase: retransmissions, where a loss was",
        "    repaired (fast retransmit after three duplicate ACKs, or a timeout);",
        "  - the brown ACK line under the ticks, and the green receive-window edge above;",
        "  - on the right-hand axis, cwnd in purple: it grows each round trip, is halved at",
        "    a loss (fast recovery) and falls to one segment after a timeout.",
    ]);

    step(
        "The whole journey: from a name to a web page",
        "book: Layer 7 › The whole journey, book/src/layer7/journey.md",
        &[
            "Our DNS resolves www.lab.test over our UDP; our TCP connects to alpha's web",
            "server; the GET goes down through TCP, IPv4 and Ethernet, each header shown as",
            "it is added, and the response comes back up. Every byte is rawstack's own.",
        ],
    );
    let journey_capture = out.join("journey.pcap");
    let journey_arg = journey_capture.to_string_lossy().into_owned();
    run_on(&lab, Host::Raw, &journey, &["-w", &journey_arg])?;

    drop(lab);
    banner("Tour finished");
    say(&[
        &format!(
            "The captures are in {}: open arp.pcap and journey.pcap in Wireshark,",
            out.display()
        ),
        "and lossy-echo.svg, the lossy transfer's picture, in a browser.",
        "Read on in the book: cargo xtask book, then book/build/index.html.",
        "Try things yourself: cargo xtask lab, then e.g. `alpha cargo run -q -p l2-link --example sniff`.",
    ]);
    Ok(ExitCode::SUCCESS)
}

/// Builds the named examples of `package` and returns their paths in order.
fn build_examples<const N: usize>(
    root: &Path,
    package: &str,
    names: [&'static str; N],
) -> crate::Result<[PathBuf; N]> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root)
        .args(["build", "--quiet", "-p", package]);
    for name in names {
        command.args(["--example", name]);
    }
    if !command.status()?.success() {
        return Err(format!("cargo build -p {package} failed").into());
    }
    let dir = root.join("target/debug/examples");
    let paths = names.map(|name| dir.join(name));
    if let Some(missing) = paths.iter().find(|path| !path.is_file()) {
        return Err(format!("{} was not built", missing.display()).into());
    }
    Ok(paths)
}

fn banner(title: &str) {
    println!("\n\x1b[1m== {title} ==\x1b[0m");
}

fn step(title: &str, chapter: &str, explanation: &[&str]) {
    banner(title);
    say(explanation);
    println!("   ({chapter})");
}

fn say(lines: &[&str]) {
    for line in lines {
        println!("   {line}");
    }
}

fn show_command(host: Option<Host>, program: &Path, args: &[&str]) {
    let name = program.file_name().unwrap_or_default().to_string_lossy();
    let prefix = host.map(|h| format!("[{}] ", h.name())).unwrap_or_default();
    let quoted: Vec<String> = args
        .iter()
        .map(|arg| {
            if arg.contains(' ') {
                format!("{arg:?}")
            } else {
                arg.to_string()
            }
        })
        .collect();
    println!("\n\x1b[2m{prefix}$ {name} {}\x1b[0m", quoted.join(" "));
}

fn start_on(lab: &Lab, host: Host, program: &Path, args: &[&str]) -> crate::Result<Child> {
    show_command(Some(host), program, args);
    // Its output is held back until it finishes, so it does not interleave
    // with the command that makes it print something.
    let child = lab
        .command(host, program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    Ok(child)
}

/// Waits for a capturing exercise's "listening on" line (its socket is
/// bound, so nothing sent afterwards can be missed), echoing its stderr.
fn wait_until_listening(child: &mut Child) -> crate::Result<()> {
    wait_for_line(child, "listening on")
}

/// Echoes a child's stderr and returns once a line contains `needle`.
fn wait_for_line(child: &mut Child, needle: &str) -> crate::Result<()> {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().ok_or("stderr not captured")?;
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(()),
            Ok(_) => {}
            Err(_) => return Err(format!("no {needle:?} line within 20 s").into()),
        }
    }
}

/// Waits for a background exercise and shows what it printed.
/// Waits for a service's "ready" line, then lets it run.
fn wait_for_ready(mut child: Child) -> crate::Result<Child> {
    wait_for_line(&mut child, "ready")?;
    Ok(child)
}

fn finish(mut child: Child, what: &str, host: Host) -> crate::Result<()> {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            let mut output = String::new();
            if let Some(mut stdout) = child.stdout.take() {
                stdout.read_to_string(&mut output)?;
            }
            println!(
                "\n\x1b[2m[{}] {what} printed:\x1b[0m\n{output}",
                host.name()
            );
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{what} failed: {status}").into())
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what} did not finish within 20 s").into());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn run_on(lab: &Lab, host: Host, program: &Path, args: &[&str]) -> crate::Result<()> {
    show_command(Some(host), program, args);
    let status = lab.command(host, program).args(args).status()?;
    if !status.success() {
        return Err(format!("{} failed: {status}", program.display()).into());
    }
    Ok(())
}

/// Runs `program` on `host` with `input` on its standard input.
fn run_with_input(
    lab: &Lab,
    host: Host,
    program: &Path,
    args: &[&str],
    input: &[u8],
) -> crate::Result<()> {
    use std::io::Write;
    show_command(Some(host), program, args);
    let mut child = lab
        .command(host, program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("stdin not piped")?
        .write_all(input)?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("{} failed: {status}", program.display()).into());
    }
    Ok(())
}

/// Runs `program` on `host` with `input` on its standard input, and
/// returns what it printed on standard output (not shown: for a transfer
/// too long to read). Its standard error is shown as it comes.
fn run_with_input_counting(
    lab: &Lab,
    host: Host,
    program: &Path,
    args: &[&str],
    input: &[u8],
) -> crate::Result<Vec<u8>> {
    use std::io::{Read, Write};
    show_command(Some(host), program, args);
    println!(
        "   (its standard input: {} bytes; its output is kept, not shown)",
        input.len()
    );
    let mut child = lab
        .command(host, program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("stdin not piped")?;
    let mut stdout = child.stdout.take().ok_or("stdout not piped")?;
    // Written from a thread while this one reads: an echo that cannot get
    // rid of its output would stop reading its input.
    let input = input.to_vec();
    let writer = thread::spawn(move || stdin.write_all(&input));
    let mut output = Vec::new();
    stdout.read_to_end(&mut output)?;
    writer.join().map_err(|_| "the writing thread panicked")??;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("{} failed: {status}", program.display()).into());
    }
    Ok(output)
}

fn run_here(program: &Path, args: &[&str]) -> crate::Result<()> {
    show_command(None, program, args);
    let status = Command::new(program).args(args).status()?;
    if !status.success() {
        return Err(format!("{} failed: {status}", program.display()).into());
    }
    Ok(())
}

fn program_exists(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
