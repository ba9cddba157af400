//! `http://host[:port]/path` URLs (RFC 9110 §4.2.1), and finding the
//! address of a host: in a DNS answer, or in the lab's hosts table.

use std::net::Ipv4Addr;

use crate::dns::wire::{Name, RData, Record};

/// The parts of an `http` URL a client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// The host, as written (a name or an IPv4 literal), lower-cased.
    pub host: String,
    /// The port (80 if not given).
    pub port: u16,
    /// The request-target: path and query, `/` if empty (RFC 9112 §3.2.1).
    pub target: String,
}

impl HttpUrl {
    /// Parses `http://host[:port][/path][?query]` (the fragment is
    /// dropped: it is never sent). Only `http` (no TLS here), no userinfo.
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("HTTP://"))
            .ok_or_else(|| format!("{url}: only http:// URLs"))?;
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, target) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let target = if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_string()
        };
        if authority.contains('@') {
            return Err(format!("{url}: user information is not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| format!("{url}: bad port"))?),
            None => (authority, 80),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(format!("{url}: bad host"));
        }
        if target.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(format!(
                "{url}: spaces or non-ASCII in the path must be percent-encoded"
            ));
        }
        Ok(HttpUrl {
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    /// The `Host` field's value: the host, and the port unless it is 80.
    pub fn host_field(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves `url` relative to this one, for a redirect's `Location`:
    /// an absolute `http://` URL, or an absolute path on the same host.
    pub fn join(&self, location: &str) -> Result<HttpUrl, String> {
        if location.starts_with('/') && !location.starts_with("//") {
            return Ok(HttpUrl {
                target: location.to_string(),
                ..self.clone()
            });
        }
        HttpUrl::parse(location)
    }
}

// ANCHOR: lab_hosts
/// The lab's names, like an `/etc/hosts` file: the addresses of
/// `lab.test` names when no DNS resolver is asked. An IPv4 literal is
/// itself; `www.lab.test`, `alpha.lab.test` and `lab.test` are alpha
/// (198.18.0.1), `raw.lab.test` is our stack (198.18.0.2), `beta.lab.test`
/// is beta (198.18.1.1). This is the same zone alpha's DNS server
/// answers for, written down; a resolver replaces this function by
/// answering the same question — "which IPv4 address has this name?" —
/// over the network.
pub fn lab_hosts(host: &str) -> Option<Ipv4Addr> {
    if let Ok(address) = host.parse() {
        return Some(address);
    }
    match host.trim_end_matches('.') {
        "lab.test" | "www.lab.test" | "alpha.lab.test" => Some(Ipv4Addr::new(198, 18, 0, 1)),
        "raw.lab.test" => Some(Ipv4Addr::new(198, 18, 0, 2)),
        "beta.lab.test" => Some(Ipv4Addr::new(198, 18, 1, 1)),
        _ => None,
    }
}
// ANCHOR_END: lab_hosts

// ANCHOR: address_in_answer
/// The IPv4 address a DNS answer gives `name`: follows CNAME records
/// (`www.lab.test` → `alpha.lab.test`) through the answer section to an A
/// record, as a stub resolver's caller must (RFC 1034 §3.6.2, §5.3.1). At
/// most 8 aliases, so a loop of CNAMEs ends.
pub fn address_in_answer(answers: &[Record], name: &Name) -> Option<Ipv4Addr> {
    let mut current = name.clone();
    for _ in 0..8 {
        let mut alias = None;
        for record in answers.iter().filter(|r| r.name.eq_ignore_case(&current)) {
            match &record.data {
                RData::A(address) => return Some(*address),
                RData::Cname(target) => alias = Some(target.clone()),
                _ => {}
            }
        }
        current = alias?;
    }
    None
}
// ANCHOR_END: address_in_answer

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = HttpUrl::parse("http://WWW.lab.test:8080/a/b?c=d#frag").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.target.as_str()),
            ("www.lab.test", 8080, "/a/b?c=d")
        );
        assert_eq!(url.host_field(), "www.lab.test:8080");
        let url = HttpUrl::parse("http://198.18.0.1").unwrap();
        assert_eq!(
            (url.port, url.target.as_str(), url.host_field().as_str()),
            (80, "/", "198.18.0.1")
        );
        assert_eq!(url.join("/x").unwrap().target, "/x");
        for bad in [
            "https://x/",
            "http://",
            "http://a b/",
            "http://u@h/",
            "http://h:99999/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            lab_hosts("www.lab.test"),
            Some(Ipv4Addr::new(198, 18, 0, 1))
        );
        assert_eq!(lab_hosts("example.com"), None);
    }

    #[test]
    fn cname_chains_are_followed_to_an_address() {
        use crate::dns::wire::Class;
        let name = |text: &str| text.parse::<Name>().unwrap();
        let record = |owner: &str, data: RData| Record {
            name: name(owner),
            class: Class(1),
            ttl: 60,
            data,
        };
        let answers = [
            record("alpha.lab.test", RData::A(Ipv4Addr::new(198, 18, 0, 1))),
            record("WWW.lab.test", RData::Cname(name("alpha.lab.test"))),
        ];
        assert_eq!(
            address_in_answer(&answers, &name("www.lab.test")),
            Some(Ipv4Addr::new(198, 18, 0, 1))
        );
        assert_eq!(address_in_answer(&answers, &name("beta.lab.test")), None);
        let looping = [
            record("a.test", RData::Cname(name("b.test"))),
            record("b.test", RData::Cname(name("a.test"))),
        ];
        assert_eq!(address_in_answer(&looping, &name("a.test")), None);
    }
}
