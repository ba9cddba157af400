//! Layer 7 in the lab: our `dig` (our resolver, over our UDP and TCP, on
//! our IPv4 and Ethernet as 198.18.0.2) against two DNS servers that share
//! nothing with our code — alpha's own `lab.test` server (netlab's) and
//! dnsmasq — with the real `dig`, on raw's kernel, as the judge: for every
//! question, our answer section must be the lines dig prints.
//!
//! That a forged answer is ignored is tested without a network, at the
//! resolver's level (`l7-app`'s `dns::resolver` tests), where the forger
//! can be made to guess everything but one field at a time.

use std::process::{Command, Stdio};
use std::time::Duration;

use netlab::{Host, Lab};
use rawstack_tests::{Background, example, lab, require_program, run};

const STARTUP: Duration = Duration::from_secs(20);

/// Where dnsmasq listens: alpha, beside alpha's own server on port 53.
const DNSMASQ_PORT: &str = "5353";

/// A line with its runs of blanks as one space (dig aligns with tabs).
fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lines of `title`'s section (`ANSWER`, `AUTHORITY`) in dig-style
/// output, normalized.
fn section(output: &str, title: &str) -> Vec<String> {
    let header = format!(";; {title} SECTION:");
    output
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(normalize)
        .collect()
}

/// Our dig on raw, over our stack; its stdout.
fn our_dig(lab: &Lab, args: &[&str]) -> String {
    let mut command = lab.command(Host::Raw, example("l7-app", "dig"));
    command.args(args);
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, Some(0), "dig {args:?}: {stdout}{stderr}");
    stdout
}

/// The real dig on raw's kernel: the records of `sections` (`+answer`,
/// `+authority`), normalized.
fn real_dig(lab: &Lab, args: &[&str], sections: &str) -> Vec<String> {
    let mut command = lab.command(Host::Raw, "dig");
    command
        .args(["+noall", sections, "+tries=1", "+time=3"])
        .args(args);
    let (code, stdout, stderr) = run(command);
    assert_eq!(code, Some(0), "dig {args:?}: {stderr}");
    stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(normalize)
        .collect()
}

#[test]
fn our_dig_reads_alphas_zone_as_the_real_dig_does() {
    if !require_program("dig", "dnsutils") {
        return;
    }
    let Some(lab) = lab() else { return };
    // No arguments: www.lab.test A at alpha — an alias and its address.
    let out = our_dig(&lab, &[]);
    assert!(
        out.contains(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: "),
        "{out}"
    );
    assert!(
        out.contains(";; flags: qr aa rd; QUERY: 1, ANSWER: 2,"),
        "{out}"
    );
    assert!(
        out.contains(";; SERVER: 198.18.0.1#53(198.18.0.1) (UDP)"),
        "{out}"
    );
    assert_eq!(
        section(&out, "ANSWER"),
        real_dig(&lab, &["@198.18.0.1", "www.lab.test", "A"], "+answer")
    );
    assert_eq!(
        section(&out, "ANSWER"),
        [
            "www.lab.test. 60 IN CNAME alpha.lab.test.",
            "alpha.lab.test. 60 IN A 198.18.0.1"
        ]
    );
    for (name, qtype) in [
        ("lab.test", "MX"),
        ("lab.test", "TXT"),
        ("lab.test", "SOA"),
        ("lab.test", "NS"),
        ("alpha.lab.test", "AAAA"),
        ("beta.lab.test", "A"),
        ("raw.lab.test", "A"),
    ] {
        let out = our_dig(&lab, &[name, qtype]);
        let answer = section(&out, "ANSWER");
        assert!(!answer.is_empty(), "{name} {qtype}: {out}");
        assert_eq!(
            answer,
            real_dig(&lab, &["@198.18.0.1", name, qtype], "+answer"),
            "{name} {qtype}"
        );
    }
    // A name that is not there: NXDOMAIN, and the zone's SOA as authority.
    let out = our_dig(&lab, &["nope.lab.test"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert_eq!(
        section(&out, "AUTHORITY"),
        real_dig(&lab, &["@198.18.0.1", "nope.lab.test"], "+authority")
    );
}

#[test]
fn a_truncated_answer_is_fetched_again_over_our_tcp() {
    if !require_program("dig", "dnsutils") {
        return;
    }
    let Some(lab) = lab() else { return };
    let real = real_dig(&lab, &["@198.18.0.1", "big.lab.test", "TXT"], "+answer");
    assert_eq!(real.len(), 1, "{real:?}");
    for args in [
        &["big.lab.test", "TXT"][..],
        &["--kernel", "big.lab.test", "TXT"],
    ] {
        let out = our_dig(&lab, args);
        assert!(out.contains(";; Truncated, retrying in TCP mode."), "{out}");
        assert!(out.contains("(198.18.0.1) (TCP)"), "{out}");
        assert!(out.contains(";; MSG SIZE  rcvd: 1650"), "{out}");
        assert_eq!(section(&out, "ANSWER"), real, "{args:?}");
    }
}

#[test]
fn our_dig_agrees_with_dig_on_dnsmasqs_answers() {
    if !require_program("dnsmasq", "dnsmasq") || !require_program("dig", "dnsutils") {
        return;
    }
    let Some(lab) = lab() else { return };
    let mut dnsmasq = lab.command(Host::Alpha, "dnsmasq");
    dnsmasq.args([
        "--no-daemon",
        "--port",
        DNSMASQ_PORT,
        "--listen-address=198.18.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--user=root",
        "--group=root",
        "--pid-file=",
        "--address=/x.lab.test/198.18.0.9",
        "--host-record=h.lab.test,198.18.0.10,2001:db8::10",
        "--txt-record=t.lab.test,hello,two words",
        "--mx-host=m.lab.test,mail.lab.test,5",
        "--cname=c.lab.test,h.lab.test",
        "--ptr-record=9.0.18.198.in-addr.arpa,x.lab.test",
    ]);
    dnsmasq.stdin(Stdio::null());
    let mut dnsmasq = Background::spawn(dnsmasq);
    dnsmasq.wait_for_stderr("started", STARTUP);
    for (name, qtype) in [
        ("x.lab.test", "A"),
        ("h.lab.test", "AAAA"),
        ("t.lab.test", "TXT"),
        ("m.lab.test", "MX"),
        ("c.lab.test", "A"),
        ("9.0.18.198.in-addr.arpa", "PTR"),
    ] {
        let server = "@198.18.0.1";
        let out = our_dig(&lab, &[server, "-p", DNSMASQ_PORT, name, qtype]);
        let answer = section(&out, "ANSWER");
        assert!(!answer.is_empty(), "{name} {qtype}: {out}");
        let real = real_dig(&lab, &[server, "-p", DNSMASQ_PORT, name, qtype], "+answer");
        assert_eq!(answer, real, "{name} {qtype}");
    }
    // The kernel's sockets, same decoder: same lines.
    let out = our_dig(
        &lab,
        &["--kernel", "@198.18.0.1", "-p", DNSMASQ_PORT, "c.lab.test"],
    );
    assert_eq!(
        section(&out, "ANSWER"),
        [
            "c.lab.test. 0 IN CNAME h.lab.test.",
            "h.lab.test. 0 IN A 198.18.0.10"
        ]
    );
}

#[test]
fn outside_the_lab_dig_refuses_to_send() {
    for args in [&[][..], &["--kernel"][..]] {
        let mut command = Command::new(example("l7-app", "dig"));
        command.args(args).stdin(Stdio::null());
        let (code, _, stderr) = run(command);
        assert_eq!(code, Some(2), "dig {args:?}: {stderr}");
        assert!(stderr.contains("refusing to send"), "{args:?}: {stderr}");
    }
}
