//! The lab, checked against the kernel: each test starts its own lab, runs
//! real commands on its hosts (`ip`, `ping`, `cat /proc/sys/…`, and this test
//! binary itself as an echo client) and compares what the kernel reports
//! with DESIGN §4.
//!
//! Where the machine cannot make a user namespace, each test prints
//! `skipped: REASON` and passes, except under `CI=true`, where it fails.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use netlab::topology::{self, ALPHA_IP, ECHO_PORT, INTERFACES, RAW_KERNEL_IP};
use netlab::{Host, Lab, LabError};

/// A fresh lab, or `None` (after printing why) where labs cannot run.
fn start_or_skip() -> Option<Lab> {
    match Lab::start() {
        Ok(lab) => Some(lab),
        Err(LabError::Unsupported(reason)) if std::env::var("CI").as_deref() != Ok("true") => {
            println!("skipped: {reason}");
            None
        }
        Err(error) => panic!("{error}"),
    }
}

/// Where a program is: on PATH or in the sbin directories.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn ip() -> PathBuf {
    which("ip").expect("iproute2's ip is installed")
}

/// Runs a command, expects success, returns its stdout.
fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("netlab exec runs");
    assert_success(&output, &format!("{command:?}"));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `cat FILE` on a host, trimmed.
fn read_on(lab: &Lab, host: Host, file: &str) -> String {
    stdout_of(lab.command(host, "cat").arg(file))
        .trim()
        .to_string()
}

#[test]
fn alpha_pings_raws_kernel_across_the_veth() {
    let Some(lab) = start_or_skip() else { return };
    let Some(ping) = which("ping") else {
        println!("no ping installed; the echo tests cover the cable");
        return;
    };
    let out = stdout_of(
        lab.command(Host::Alpha, ping)
            .args(["-c1", "-W2", "198.18.0.3"]),
    );
    assert!(out.contains("1 received"), "{out}");
}

#[test]
fn tcp_echo_on_alpha_answers_raws_kernel() {
    let Some(lab) = start_or_skip() else { return };
    let out = run_probe(&lab, "tcp");
    assert!(out.contains("tcp echo ok from 198.18.0.3"), "{out}");
}

#[test]
fn udp_echo_on_alpha_answers_raws_kernel() {
    let Some(lab) = start_or_skip() else { return };
    let out = run_probe(&lab, "udp");
    assert!(out.contains("udp echo ok from 198.18.0.3"), "{out}");
}

/// Runs [`probe`] on raw: this test binary, re-run inside the lab.
fn run_probe(lab: &Lab, protocol: &str) -> String {
    let me = std::env::current_exe().expect("test binary path");
    stdout_of(
        lab.command(Host::Raw, me)
            .args(PROBE_ARGS)
            .env("NETLAB_TEST_PROBE", protocol),
    )
}

/// Arguments that make this test binary run [`probe`] alone.
const PROBE_ARGS: [&str; 4] = ["probe", "--exact", "--nocapture", "--test-threads=1"];

/// Not a test of its own: the half of a test that runs somewhere else, in a
/// process of its own (this test binary, re-run). It does nothing unless
/// `NETLAB_TEST_PROBE` says which half to play:
/// - `tcp`, `udp`: the echo client, run on raw, where kernel sockets use
///   raw's 198.18.0.3;
/// - `unsupported`: starting a lab where no user namespace may be made;
/// - `owner`: a process that starts a lab and is then killed.
#[test]
fn probe() {
    let Ok(protocol) = std::env::var("NETLAB_TEST_PROBE") else {
        return;
    };
    if protocol == "owner" {
        // Start a lab, say which, and wait to be killed.
        let lab = Lab::start().expect("a lab");
        println!("\nowner-lab {} {}", lab.init_pid(), lab.dir().display());
        std::io::stdout().flush().unwrap();
        thread::sleep(Duration::from_secs(60));
        return;
    }
    if protocol == "unsupported" {
        match Lab::start() {
            Err(LabError::Unsupported(reason)) => {
                assert!(!reason.contains('\n'), "one line: {reason}");
                assert!(
                    reason.contains("sysctl -w user.max_user_namespaces="),
                    "names the fix: {reason}"
                );
                println!("unsupported ok: {reason}");
            }
            Err(other) => panic!("expected Unsupported, got {other}"),
            Ok(_) => panic!("a lab started where no user namespace may be made"),
        }
        return;
    }
    let alpha = SocketAddrV4::new(ALPHA_IP, ECHO_PORT);
    assert_eq!(alpha.to_string(), "198.18.0.1:7");
    match protocol.as_str() {
        "tcp" => {
            let stream =
                TcpStream::connect_timeout(&alpha.into(), Duration::from_secs(2)).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let local = stream.local_addr().unwrap();
            // Large enough to need many MTU-sized segments each way.
            let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let mut writer = stream.try_clone().unwrap();
            let to_send = sent.clone();
            // Write from another thread: the echo comes back while we send.
            let sender = thread::spawn(move || {
                writer.write_all(&to_send).unwrap();
                writer.shutdown(Shutdown::Write).unwrap();
            });
            let mut echoed = Vec::new();
            (&stream).read_to_end(&mut echoed).expect("read the echo");
            sender.join().unwrap();
            assert!(
                echoed == sent,
                "echoed {} bytes, sent {}",
                echoed.len(),
                sent.len()
            );
            println!("tcp echo ok from {}", local.ip());
        }
        "udp" => {
            let socket = UdpSocket::bind((RAW_KERNEL_IP, 0)).expect("bind on raw");
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            socket.send_to(b"one datagram, back please", alpha).unwrap();
            let mut buffer = [0; 100];
            let (length, from) = socket.recv_from(&mut buffer).expect("an echo within 2 s");
            assert_eq!(from, SocketAddr::from(alpha));
            assert_eq!(&buffer[..length], b"one datagram, back please");
            println!("udp echo ok from {}", socket.local_addr().unwrap().ip());
        }
        other => panic!("unknown probe {other}"),
    }
}

#[test]
fn no_user_namespaces_left_means_one_line_naming_the_fix() {
    // Only meaningful where labs work at all: elsewhere the other tests
    // already meet the real thing.
    let Some(lab) = start_or_skip() else { return };
    drop(lab);
    let Some(unshare) = which("unshare") else {
        println!("skipped: no unshare(1) to make a user namespace without namespaces left");
        return;
    };
    // user.max_user_namespaces is per user namespace: setting it to 0 in a
    // throwaway one (made by util-linux's unshare) touches nothing outside.
    let script = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";
    let output = Command::new(unshare)
        .args(["--user", "--map-root-user", "sh", "-c", script, "sh"])
        .arg(std::env::current_exe().unwrap())
        .args(PROBE_ARGS)
        .env("NETLAB_HELPER", netlab::helper_path().unwrap())
        .env("NETLAB_TEST_PROBE", "unsupported")
        .output()
        .unwrap();
    assert_success(&output, "the unsupported probe");
    assert!(String::from_utf8_lossy(&output.stdout).contains("unsupported ok: "));
}

#[test]
fn each_host_sees_only_its_own_interfaces() {
    let Some(lab) = start_or_skip() else { return };
    let expected = [
        (Host::Alpha, "lab0 lo"),
        (Host::Raw, "lab1 lab2 lo"),
        (Host::Beta, "lab3 lo"),
    ];
    for (host, names) in expected {
        let names: BTreeSet<&str> = names.split(' ').collect();
        let sysfs = stdout_of(lab.command(host, "ls").arg("/sys/class/net"));
        assert_eq!(
            sysfs.split_whitespace().collect::<BTreeSet<_>>(),
            names,
            "{host}: /sys/class/net"
        );
        // `ip -o link`: "2: lab0@if3: <…> mtu 1500 …", one line per interface.
        let links = stdout_of(lab.command(host, ip()).args(["-o", "link"]));
        let linked: BTreeSet<&str> = links
            .lines()
            .filter_map(|line| line.split(": ").nth(1))
            .map(|name| name.split('@').next().unwrap_or(name))
            .collect();
        assert_eq!(linked, names, "{host}: ip -o link");
    }
}

#[test]
fn interfaces_have_the_designed_macs_mtus_and_addresses() {
    let Some(lab) = start_or_skip() else { return };
    // The table the lab is built from says what DESIGN §4 says.
    let spelled: Vec<_> = INTERFACES
        .iter()
        .map(|i| (i.name, i.mac_string(), i.mtu))
        .collect();
    assert_eq!(
        spelled,
        [
            ("lab0", "02:00:00:00:00:01".to_string(), 1500),
            ("lab1", "02:00:00:00:00:02".to_string(), 1500),
            ("lab2", "02:00:00:00:00:03".to_string(), 1280),
            ("lab3", "02:00:00:00:00:04".to_string(), 1280),
        ]
    );
    // And the kernel says what the table says.
    for interface in INTERFACES.iter() {
        let host = interface.host;
        let sys = |attribute: &str| {
            read_on(
                &lab,
                host,
                &format!("/sys/class/net/{}/{attribute}", interface.name),
            )
        };
        assert_eq!(sys("address"), interface.mac_string(), "{}", interface.name);
        assert_eq!(sys("mtu"), interface.mtu.to_string(), "{}", interface.name);
        assert_eq!(sys("operstate"), "up", "{}", interface.name);
        let peer = topology::interface(interface.peer).unwrap();
        assert_eq!(
            sys("ifindex"),
            interface.index.to_string(),
            "{}",
            interface.name
        );
        assert_eq!(
            sys("iflink"),
            peer.index.to_string(),
            "{}: peer's index",
            interface.name
        );
        let addresses = stdout_of(lab.command(host, ip()).args([
            "-o",
            "-4",
            "address",
            "show",
            "dev",
            interface.name,
        ]));
        let found: Vec<&str> = addresses
            .lines()
            .filter_map(|line| line.split_whitespace().skip_while(|w| *w != "inet").nth(1))
            .collect();
        let wanted: Vec<String> = interface
            .address
            .iter()
            .map(|(a, p)| format!("{a}/{p}"))
            .collect();
        assert_eq!(found, wanted, "{}", interface.name);
    }
    assert_eq!(
        read_on(&lab, Host::Alpha, "/sys/class/net/lab0/address"),
        "02:00:00:00:00:01"
    );
    let raw_links = stdout_of(lab.command(Host::Raw, ip()).args(["-o", "link"]));
    assert!(raw_links.contains("11: lab1@if10: "), "{raw_links}");
    let beta_address = stdout_of(
        lab.command(Host::Beta, ip())
            .args(["-o", "-4", "address", "show", "dev", "lab3"]),
    );
    assert!(beta_address.contains(" 198.18.1.1/24 "), "{beta_address}");
}

#[test]
fn routes_stay_inside_the_lab() {
    let Some(lab) = start_or_skip() else { return };
    let (lab_network, lab_prefix) = topology::LAB_NETWORK;
    let lab_mask = u32::MAX << (32 - lab_prefix);
    for host in Host::ALL {
        let routes = stdout_of(lab.command(host, ip()).args(["-4", "route", "show"]));
        assert!(!routes.is_empty(), "{host} has routes");
        for route in routes.lines() {
            let destination = route.split_whitespace().next().unwrap_or("");
            assert_ne!(destination, "default", "{host}: {route}");
            let (address, prefix) = destination.split_once('/').unwrap_or((destination, "32"));
            let address: std::net::Ipv4Addr = address
                .parse()
                .unwrap_or_else(|_| panic!("{host}: {route}"));
            let prefix: u8 = prefix.parse().unwrap();
            assert!(
                prefix >= lab_prefix && u32::from(address) & lab_mask == u32::from(lab_network),
                "{host} routes outside 198.18.0.0/15: {route}"
            );
        }
    }
    let alpha = stdout_of(lab.command(Host::Alpha, ip()).args(["-4", "route", "show"]));
    assert!(
        alpha.contains("198.18.1.0/24 via 198.18.0.2 dev lab0"),
        "{alpha}"
    );
    let beta = stdout_of(lab.command(Host::Beta, ip()).args(["-4", "route", "show"]));
    assert!(
        beta.contains("198.18.0.0/15 via 198.18.1.2 dev lab3"),
        "{beta}"
    );
}

#[test]
fn raw_neither_forwards_nor_sends_redirects() {
    let Some(lab) = start_or_skip() else { return };
    for scope in ["all", "default", "lab1", "lab2"] {
        for knob in ["forwarding", "send_redirects"] {
            let file = format!("/proc/sys/net/ipv4/conf/{scope}/{knob}");
            assert_eq!(read_on(&lab, Host::Raw, &file), "0", "{file}");
        }
    }
    assert_eq!(
        read_on(&lab, Host::Raw, "/proc/sys/net/ipv4/ip_forward"),
        "0"
    );
}

#[test]
fn ipv6_is_disabled_on_every_host() {
    let Some(lab) = start_or_skip() else { return };
    if !Path::new("/proc/sys/net/ipv6").exists() {
        println!("this kernel has no IPv6 at all");
        return;
    }
    for host in Host::ALL {
        for scope in ["all", "default"] {
            let file = format!("/proc/sys/net/ipv6/conf/{scope}/disable_ipv6");
            assert_eq!(read_on(&lab, host, &file), "1", "{host}: {file}");
        }
        for interface in host.interfaces() {
            let file = format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", interface.name);
            assert_eq!(read_on(&lab, host, &file), "1", "{host}: {file}");
        }
        let addresses = stdout_of(lab.command(host, ip()).args(["-6", "address", "show"]));
        assert_eq!(addresses.trim(), "", "{host} has IPv6 addresses");
    }
}

#[test]
fn offloads_are_off_on_every_veth() {
    let Some(lab) = start_or_skip() else { return };
    for interface in INTERFACES.iter() {
        // Our own SIOCETHTOOL readback: `IFACE NAME on|off` lines.
        let states = stdout_of(
            lab.command(interface.host, lab.helper())
                .args(["offloads", interface.name]),
        );
        for name in [
            "tx-checksumming",
            "scatter-gather",
            "tcp-segmentation-offload",
            "generic-segmentation-offload",
        ] {
            assert!(
                states.contains(&format!("{} {name} off\n", interface.name)),
                "{states}"
            );
        }
        assert!(states.contains(" tx-tcp-segmentation off\n"), "{states}");
        assert!(
            !states.contains(" on\n"),
            "{}: an offload is on:\n{states}",
            interface.name
        );
        // A second opinion where the ethtool binary is installed.
        if let Some(ethtool) = which("ethtool") {
            let features = stdout_of(
                lab.command(interface.host, ethtool)
                    .args(["-k", interface.name]),
            );
            for name in [
                "tx-checksumming",
                "scatter-gather",
                "tcp-segmentation-offload",
                "generic-segmentation-offload",
            ] {
                assert!(
                    features.contains(&format!("\n{name}: off")),
                    "{}: {name}\n{features}",
                    interface.name
                );
            }
        }
    }
}

#[test]
fn commands_run_as_lab_root_in_the_callers_directory() {
    let Some(lab) = start_or_skip() else { return };
    let out = stdout_of(
        lab.command(Host::Beta, "sh")
            .args(["-c", "id -u; echo $RAWSTACK_HOST; echo $RAWSTACK_LAB; pwd"]),
    );
    let lines: Vec<&str> = out.lines().collect();
    let cwd = std::env::current_dir().unwrap();
    let dir = lab.dir().canonicalize().unwrap();
    assert_eq!(
        lines,
        ["0", "beta", dir.to_str().unwrap(), cwd.to_str().unwrap()]
    );
}

#[test]
fn host_commands_work_from_inside_the_lab() {
    let Some(lab) = start_or_skip() else { return };
    let path = format!(
        "{}:{}",
        lab.bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = stdout_of(
        lab.command(Host::Raw, "sh")
            .args([
                "-c",
                "alpha cat /sys/class/net/lab0/address; beta sh -c 'echo $RAWSTACK_HOST'",
            ])
            .env("PATH", path),
    );
    assert_eq!(out, "02:00:00:00:00:01\nbeta\n");
}

#[test]
fn exit_statuses_pass_through_like_a_shell() {
    let Some(lab) = start_or_skip() else { return };
    let status = |program: &str, args: &[&str]| {
        lab.command(Host::Alpha, program)
            .args(args)
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(status("sh", &["-c", "exit 3"]), Some(3));
    assert_eq!(status("sh", &["-c", "kill -9 $$"]), Some(128 + 9));
    assert_eq!(status("/no/such/program", &[]), Some(127));
}

#[test]
fn the_lab_init_is_pid_1_of_the_hosts() {
    let Some(lab) = start_or_skip() else { return };
    let cmdline = read_on(&lab, Host::Raw, "/proc/1/cmdline");
    if !cmdline.contains("netlab\0init") {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "no lab /proc: {cmdline:?}"
        );
        println!("skipped: the hosts keep the outer /proc here");
        return;
    }
    // A command's shell is numbered inside the lab: right after the init,
    // the three holders and alpha's services.
    let pid: u32 = stdout_of(lab.command(Host::Raw, "sh").args(["-c", "echo $$"]))
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 4 && pid < 1000, "pid {pid}");
}

/// Ids of the PID namespaces of every process we can see.
fn pid_namespaces_in_use() -> Vec<u64> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|entry| fs::metadata(entry.path().join("ns/pid")).ok())
        .map(|metadata| metadata.ino())
        .collect()
}

#[test]
fn dropping_the_lab_ends_every_process_and_removes_its_directory() {
    let Some(lab) = start_or_skip() else { return };
    let dir = lab.dir().to_path_buf();
    let lab_pid_ns = fs::metadata(format!("/proc/{}/ns/pid", lab.init_pid()))
        .unwrap()
        .ino();
    let pids: Vec<u32> = std::iter::once(lab.init_pid())
        .chain(Host::ALL.map(|h| lab.holder_pid(h)))
        .collect();
    for pid in &pids {
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} runs"
        );
    }
    // A command still running on a host when the lab ends.
    let mut sleeper = lab.command(Host::Beta, "sleep").arg("600").spawn().unwrap();
    thread::sleep(Duration::from_millis(200));
    assert!(pid_namespaces_in_use().contains(&lab_pid_ns));
    assert!(dir.join("state").exists() && dir.join("bin/alpha").exists());

    drop(lab);

    for pid in &pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} survived the lab"
        );
    }
    assert!(
        !pid_namespaces_in_use().contains(&lab_pid_ns),
        "a process survived in the lab's PID namespace"
    );
    assert!(!dir.exists(), "{} survived the lab", dir.display());
    // The command was killed by the kernel (SIGKILL: 128 + 9).
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = sleeper.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the command outlived the lab");
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(137));
}

/// Waits until no process is left in the PID namespace `pid_ns`.
fn wait_until_gone(pid_ns: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while pid_namespaces_in_use().contains(&pid_ns) {
        assert!(Instant::now() < deadline, "the lab outlived {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_owner_cannot_leak_its_lab() {
    // Only meaningful where labs work at all.
    let Some(lab) = start_or_skip() else { return };
    drop(lab);
    let mut owner = Command::new(std::env::current_exe().unwrap())
        .args(PROBE_ARGS)
        .env("NETLAB_TEST_PROBE", "owner")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The harness prints its own lines first ("running 1 test", …).
    let stdout = std::io::BufReader::new(owner.stdout.take().unwrap());
    let line = std::io::BufRead::lines(stdout)
        .map(Result::unwrap)
        .find_map(|line| line.strip_prefix("owner-lab ").map(String::from))
        .expect("the owner reports its lab");
    let mut words = line.splitn(2, ' ');
    let init_pid: u32 = words.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(words.next().unwrap());
    let pid_ns = fs::metadata(format!("/proc/{init_pid}/ns/pid"))
        .unwrap()
        .ino();

    owner.kill().unwrap(); // SIGKILL: no destructor runs, only the kernel cleans up.
    owner.wait().unwrap();

    wait_until_gone(pid_ns, "its killed owner");
    // Only the directory is left for someone to clean (a shared lab's next
    // user does it); this one is ours.
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn killing_netlab_start_takes_the_lab_with_it() {
    let Some(lab) = start_or_skip() else { return };
    let pid_ns = fs::metadata(format!("/proc/{}/ns/pid", lab.init_pid()))
        .unwrap()
        .ino();
    // `netlab start` is the init's parent (field 4 of /proc/PID/stat).
    let stat = fs::read_to_string(format!("/proc/{}/stat", lab.init_pid())).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let start_pid = after_name.split(' ').nth(1).unwrap();
    let status = Command::new("kill")
        .args(["-KILL", start_pid])
        .status()
        .unwrap();
    assert!(status.success());
    // PR_SET_PDEATHSIG: the init dies with its parent, and the lab with it.
    wait_until_gone(pid_ns, "netlab start");
}
