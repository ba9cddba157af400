//! A device that records everything passing through it in a pcap file.

use std::io::{self, Write};
use std::time::{Instant, SystemTime};

use super::{Device, RxMeta};
use crate::pcap::{PcapWriter, reinsert_vlan_tag};
use crate::wire::MacAddr;

/// Wraps a device and writes every frame it sends and receives to a pcap
/// capture, for Wireshark or `tshark -r`.
///
/// Sent frames are recorded here, as they are sent, because a packet socket
/// never receives its own transmissions: a sniffer on the same socket would
/// never see them. Received frames are recorded as they were on the wire:
/// if the kernel stripped an 802.1Q tag, the tag is put back
/// ([`reinsert_vlan_tag`]), as libpcap does. The frames handed to the
/// caller are not changed.
///
/// A frame that cannot be recorded (disk full) is an error of `send` or
/// `recv`: a capture that silently loses frames would mislead.
#[derive(Debug)]
pub struct PcapTap<D: Device, W: Write> {
    device: D,
    capture: PcapWriter<W>,
}

impl<D: Device, W: Write> PcapTap<D, W> {
    /// Wrap `device`, starting a new Ethernet capture on `out`.
    pub fn new(device: D, out: W) -> io::Result<Self> {
        Ok(PcapTap::with_writer(device, PcapWriter::new(out)?))
    }

    /// Wrap `device`, appending to a capture already started.
    pub fn with_writer(device: D, capture: PcapWriter<W>) -> Self {
        PcapTap { device, capture }
    }

    /// The wrapped device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The wrapped device, mutably (frames sent through it directly are not
    /// recorded).
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Flush the capture.
    pub fn flush(&mut self) -> io::Result<()> {
        self.capture.flush()
    }

    /// Take the device and the capture apart again.
    pub fn into_parts(self) -> (D, PcapWriter<W>) {
        (self.device, self.capture)
    }
}

impl<D: Device, W: Write> Device for PcapTap<D, W> {
    // ANCHOR: pcap_tap_send
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let sent_at = SystemTime::now();
        self.device.send(frame)?;
        // Only frames that went out are recorded, stamped when they left.
        self.capture.write_frame(sent_at, frame, frame.len())
    }
    // ANCHOR_END: pcap_tap_send

    fn recv(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Option<RxMeta>> {
        let Some(meta) = self.device.recv(buf, deadline)? else {
            return Ok(None);
        };
        let frame = &buf[..meta.len.min(buf.len())];
        match meta.vlan_tci {
            Some(tci) => {
                let tagged = reinsert_vlan_tag(frame, tci);
                let tag_len = tagged.len() - frame.len();
                self.capture
                    .write_frame(meta.timestamp, &tagged, meta.original_len + tag_len)?;
            }
            None => self
                .capture
                .write_frame(meta.timestamp, frame, meta.original_len)?,
        }
        Ok(Some(meta))
    }

    fn mac(&self) -> MacAddr {
        self.device.mac()
    }

    fn mtu(&self) -> usize {
        self.device.mtu()
    }
}
