//! What the layer 4 exercises (`udp-echo`, `tcp-client`, `tcp-server`)
//! share: opening our stack where the lab puts it, and nowhere else
//! unless asked by name.

use std::net::Ipv4Addr;

use l2_link::exercise::{Failure, Whereabouts, check_may_send, lab};
use l2_link::wire::MacAddr;

use super::config::StackConfig;
use super::faults::InjectedLoss;
use super::runtime::Stack;

/// Where an exercise's stack runs; `None` means the lab's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackPlace {
    /// The interface (default in the lab: this host's lab interface, lab1
    /// on raw).
    pub interface: Option<String>,
    /// Our address and prefix length (default: 198.18.0.2/24).
    pub address: Option<(Ipv4Addr, u8)>,
    /// Our MAC (default: 02:00:00:00:00:12 in the lab; outside it, the
    /// interface's own).
    pub mac: Option<MacAddr>,
    /// A gateway for everything off our network (a default route).
    pub gateway: Option<Ipv4Addr>,
}

impl StackPlace {
    // ANCHOR: open_stack
    /// Opens our stack with `config`. In the lab, the defaults put it on
    /// raw's lab1 as 198.18.0.2; outside the lab it refuses (DESIGN §8,
    /// network safety) unless the interface and the target — the peer a
    /// client talks to, or for a server our own address — were named
    /// (`target_named`).
    pub fn open(&self, target_named: bool, config: StackConfig) -> Result<Stack, Failure> {
        self.open_lossy(target_named, config, None)
    }

    /// Like [`StackPlace::open`]; with a `loss`, the stack loses that
    /// share of its own frames (`--loss PCT --seed N`,
    /// [`Stack::open_lossy`]).
    pub fn open_lossy(
        &self,
        target_named: bool,
        config: StackConfig,
        loss: Option<InjectedLoss>,
    ) -> Result<Stack, Failure> {
        let whereabouts = Whereabouts::detect();
        check_may_send(whereabouts, self.interface.is_some(), target_named)?;
        let interface = self
            .interface
            .clone()
            .unwrap_or_else(|| whereabouts.default_interface().to_string());
        let (addr, prefix_len) = self.address.unwrap_or((lab::STACK_IP, 24));
        let mac = match (self.mac, whereabouts) {
            (Some(mac), _) => mac,
            (None, Whereabouts::OutsideLab) => l2_link::sys::interface_mac(&interface)?,
            (None, _) => lab::STACK_MAC,
        };
        let stack = match loss {
            None => Stack::open(&interface, mac, addr, prefix_len, config)?,
            Some(loss) => Stack::open_lossy(&interface, mac, addr, prefix_len, config, loss)?,
        };
        if let Some(gateway) = self.gateway {
            stack
                .with(|net| {
                    net.interface_mut()
                        .add_route(Ipv4Addr::UNSPECIFIED, 0, Some(gateway))
                })
                .map_err(|error| Failure::Usage(error.to_string()))?;
        }
        Ok(stack)
    }
    // ANCHOR_END: open_stack
}
