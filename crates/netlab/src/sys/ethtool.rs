//! Offloads off: the `SIOCETHTOOL` ioctl, as `ethtool -K lab1 tx off sg off
//! tso off gso off gro off` does it (the ethtool binary may be absent).
//!
//! Why: a veth normally lets the kernel skip work it could hand to a NIC.
//! With transmit checksum offload on, kernel TCP/UDP frames leave with only
//! a partial checksum (the "NIC" would finish it); with segmentation offload
//! on, one "frame" can be a 64 KiB super-packet far above the MTU; with
//! receive offload on, received segments are merged. Our stack and our pcaps
//! would see all of that. With the offloads off, every frame on a lab cable
//! is a frame a real wire could carry.
//!
//! The interface is `struct ifreq` (netdevice(7)) whose data pointer points
//! at one of the `struct ethtool_*` of `<linux/ethtool.h>`, each starting
//! with a `u32 cmd`. Two generations of commands are used:
//!
//! - the feature-bitmap commands (`ETHTOOL_GSSET_INFO`, `ETHTOOL_GSTRINGS`,
//!   `ETHTOOL_GFEATURES`, `ETHTOOL_SFEATURES`): the kernel names each
//!   feature (`tx-tcp-segmentation`, …) and we turn off, by name, every
//!   transmit checksum, scatter-gather, segmentation and receive-merging
//!   feature it has. New kernels add new ones (`tx-tcp-accecn-segmentation`);
//!   matching names catches them.
//! - the legacy one-feature commands (`ETHTOOL_GTXCSUM`, `ETHTOOL_GTSO`, …)
//!   to read the classic summary back, as a second opinion.
//!
//! Setting needs CAP_NET_ADMIN over the interface's network namespace,
//! which the lab's user namespace has.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::check;

/// `ETHTOOL_GSTRINGS`: get a string set.
const ETHTOOL_GSTRINGS: u32 = 0x1b;
/// `ETHTOOL_GSSET_INFO`: get string set sizes.
const ETHTOOL_GSSET_INFO: u32 = 0x37;
/// `ETHTOOL_GFEATURES`: get the feature bitmaps.
const ETHTOOL_GFEATURES: u32 = 0x3a;
/// `ETHTOOL_SFEATURES`: change requested features.
const ETHTOOL_SFEATURES: u32 = 0x3b;
/// `ETH_SS_FEATURES`: the string set of feature names.
const ETH_SS_FEATURES: u32 = 4;
/// `ETH_GSTRING_LEN`: each name occupies this many bytes, NUL-padded.
const ETH_GSTRING_LEN: usize = 32;

/// One classic offload, with its legacy get command.
#[derive(Debug, Clone, Copy)]
struct LegacyOffload {
    name: &'static str,
    get: u32,
}

/// The classic summary `ethtool -k` starts with, and the `ETHTOOL_G*`
/// command that reads each.
const LEGACY_OFFLOADS: [LegacyOffload; 5] = [
    LegacyOffload {
        name: "tx-checksumming",
        get: 0x16,
    }, // ETHTOOL_GTXCSUM
    LegacyOffload {
        name: "scatter-gather",
        get: 0x18,
    }, // ETHTOOL_GSG
    LegacyOffload {
        name: "tcp-segmentation-offload",
        get: 0x1e,
    }, // ETHTOOL_GTSO
    LegacyOffload {
        name: "generic-segmentation-offload",
        get: 0x23,
    }, // ETHTOOL_GGSO
    LegacyOffload {
        name: "generic-receive-offload",
        get: 0x2b,
    }, // ETHTOOL_GGRO
];

/// Whether the lab wants the kernel feature called `name` off: transmit
/// checksumming, scatter-gather, any segmentation (`tx-…-segmentation`,
/// `tx-gso-…`), and receive merging (GRO in all its forms, LRO).
pub fn is_offload_feature(name: &str) -> bool {
    let transmit = name.starts_with("tx-")
        && (name.starts_with("tx-checksum")
            || name.starts_with("tx-scatter-gather")
            || name.starts_with("tx-gso")
            || name.contains("segmentation"));
    let receive_merging = name.starts_with("rx-gro") || name == "rx-lro" || name.contains("-gro-");
    transmit || receive_merging
}

/// A socket to aim interface ioctls at: any socket in the right network
/// namespace will do (this one never sends or binds).
fn ioctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket takes only integers.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One `SIOCETHTOOL` call on `interface`. `request` is the whole
/// `struct ethtool_*`, as u32 words (every struct used here is made of
/// u32s, and starts with `cmd`); the kernel reads and writes it in place.
fn ethtool(socket: &OwnedFd, interface: &str, request: &mut [u32]) -> io::Result<()> {
    let name = interface.as_bytes();
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {interface:?}"),
        ));
    }
    // SAFETY: ifreq is a plain C struct (a name array and a union of plain
    // fields and a pointer); all-zero is a valid value for it.
    let mut ifreq: libc::ifreq = unsafe { std::mem::zeroed() };
    // The name stays NUL-terminated: it is shorter than IFNAMSIZ and the
    // array started zeroed.
    for (slot, &byte) in ifreq.ifr_name.iter_mut().zip(name) {
        *slot = byte as libc::c_char;
    }
    ifreq.ifr_ifru.ifru_data = request.as_mut_ptr().cast::<libc::c_char>();
    // SAFETY: `ifreq` is a valid ifreq whose data pointer points at
    // `request`, which lives until after the call. Each caller sizes
    // `request` to the struct its command makes the kernel read and write
    // (the header plus the counts it states in it), so the kernel stays
    // inside the buffer.
    check(unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCETHTOOL, &raw mut ifreq) })?;
    Ok(())
}

/// The interface's feature names, in bit order (`ETHTOOL_GSSET_INFO`, then
/// `ETHTOOL_GSTRINGS`).
fn feature_names(socket: &OwnedFd, interface: &str) -> io::Result<Vec<String>> {
    // struct ethtool_sset_info { u32 cmd; u32 reserved; u64 sset_mask; u32 data[]; }
    // with one u32 of data, for the one set we ask about. The u64 mask is
    // laid out as its native-order bytes, split into two words.
    let [a, b, c, d, e, f, g, h] = (1u64 << ETH_SS_FEATURES).to_ne_bytes();
    let mut info = [
        ETHTOOL_GSSET_INFO,
        0,
        u32::from_ne_bytes([a, b, c, d]),
        u32::from_ne_bytes([e, f, g, h]),
        0,
    ];
    ethtool(socket, interface, &mut info)?;
    let count = info[4] as usize;
    // struct ethtool_gstrings { u32 cmd; u32 string_set; u32 len; u8 data[len * 32]; }
    let mut strings = vec![0u32; 3 + count * ETH_GSTRING_LEN / 4];
    strings[..3].copy_from_slice(&[ETHTOOL_GSTRINGS, ETH_SS_FEATURES, count as u32]);
    ethtool(socket, interface, &mut strings)?;
    let bytes: Vec<u8> = strings[3..]
        .iter()
        .flat_map(|word| word.to_ne_bytes())
        .collect();
    Ok(bytes
        .chunks(ETH_GSTRING_LEN)
        .map(|name| {
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            String::from_utf8_lossy(&name[..end]).into_owned()
        })
        .collect())
}

/// One 32-feature block of `struct ethtool_get_features_block`.
#[derive(Debug, Clone, Copy)]
struct FeatureBlock {
    /// Features the driver lets us change.
    available: u32,
    /// Features currently on.
    active: u32,
}

/// The feature bitmaps (`ETHTOOL_GFEATURES`) for `count` features.
fn feature_blocks(
    socket: &OwnedFd,
    interface: &str,
    count: usize,
) -> io::Result<Vec<FeatureBlock>> {
    let blocks = count.div_ceil(32);
    // struct ethtool_gfeatures { u32 cmd; u32 size; struct { u32 available,
    // requested, active, never_changed; } features[size]; }
    let mut request = vec![0u32; 2 + 4 * blocks];
    request[..2].copy_from_slice(&[ETHTOOL_GFEATURES, blocks as u32]);
    ethtool(socket, interface, &mut request)?;
    Ok(request[2..]
        .chunks(4)
        .map(|block| FeatureBlock {
            available: block[0],
            active: block[2],
        })
        .collect())
}

// ANCHOR: offloads_off
/// Turns off every offload feature (see [`is_offload_feature`]) that
/// `interface` lets us change, in the current network namespace.
pub fn offloads_off(interface: &str) -> io::Result<()> {
    let socket = ioctl_socket()?;
    let names = feature_names(&socket, interface)?;
    let blocks = feature_blocks(&socket, interface, names.len())?;
    // struct ethtool_sfeatures { u32 cmd; u32 size; struct { u32 valid;
    // u32 requested; } features[size]; }: for each bit set in `valid`, the
    // kernel sets the feature to the same bit of `requested` (0: off).
    let mut request = vec![0u32; 2 + 2 * blocks.len()];
    request[..2].copy_from_slice(&[ETHTOOL_SFEATURES, blocks.len() as u32]);
    for (bit, name) in names.iter().enumerate() {
        let (block, mask) = (bit / 32, 1u32 << (bit % 32));
        let changeable = blocks.get(block).is_some_and(|b| b.available & mask != 0);
        if changeable && is_offload_feature(name) {
            request[2 + 2 * block] |= mask; // valid; requested stays 0
        }
    }
    ethtool(&socket, interface, &mut request)
        .map_err(|e| io::Error::new(e.kind(), format!("{interface}: turning offloads off: {e}")))
}
// ANCHOR_END: offloads_off

/// Reads the offloads of `interface` back: first the classic summary
/// through the legacy commands (`tx-checksumming`, …), then every kernel
/// feature for which [`is_offload_feature`] holds. `(name, on)` pairs.
pub fn offload_states(interface: &str) -> io::Result<Vec<(String, bool)>> {
    let socket = ioctl_socket()?;
    let mut states = Vec::new();
    for offload in LEGACY_OFFLOADS {
        // struct ethtool_value { u32 cmd; u32 data; }
        let mut value = [offload.get, 0];
        ethtool(&socket, interface, &mut value)?;
        states.push((offload.name.to_string(), value[1] != 0));
    }
    let names = feature_names(&socket, interface)?;
    let blocks = feature_blocks(&socket, interface, names.len())?;
    for (bit, name) in names.into_iter().enumerate() {
        if is_offload_feature(&name) {
            let on = blocks
                .get(bit / 32)
                .is_some_and(|b| b.active & (1 << (bit % 32)) != 0);
            states.push((name, on));
        }
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::is_offload_feature;

    #[test]
    fn offload_features_are_recognised_by_name() {
        for name in [
            "tx-checksum-ip-generic",
            "tx-scatter-gather",
            "tx-scatter-gather-fraglist",
            "tx-tcp-segmentation",
            "tx-tcp-accecn-segmentation",
            "tx-generic-segmentation",
            "tx-udp-segmentation",
            "tx-gso-list",
            "tx-gso-partial",
            "rx-gro",
            "rx-gro-list",
            "rx-udp-gro-forwarding",
            "rx-gro-hw",
            "rx-lro",
        ] {
            assert!(is_offload_feature(name), "{name}");
        }
        for name in [
            "rx-checksum",
            "rx-vlan-hw-parse",
            "tx-vlan-hw-insert",
            "highdma",
            "tx-nocache-copy",
            "loopback",
        ] {
            assert!(!is_offload_feature(name), "{name}");
        }
    }
}
