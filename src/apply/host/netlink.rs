//! A thin, synchronous rtnetlink client: typed requests for the objects netc manages (links,
//! addresses, routes, VXLAN forwarding entries) over one blocking socket, in-process.
//!
//! Every request is acknowledged by the kernel, so an error belongs to exactly the request that
//! caused it; callers name the object in their own error. Requests wait for their ACK one by
//! one, except routes in bulk, which are pipelined ([`Netlink::change_routes`]).

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVxlan,
    LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use serde::{Deserialize, Serialize};

/// The routing table netc programs (`main`).
pub const MAIN_TABLE: u32 = RouteHeader::RT_TABLE_MAIN as u32;

/// The route protocol netc's routes carry (`proto static` in `ip route`: `RTPROT_STATIC` of
/// `include/uapi/linux/rtnetlink.h`).
pub const ROUTE_PROTOCOL: u8 = 4;
/// The route protocol the kernel gives the routes it derives from addresses (`proto kernel`:
/// `RTPROT_KERNEL`).
pub const KERNEL_ROUTE_PROTOCOL: u8 = 2;

/// A link-layer (Ethernet) address. Records keep it as text, `aa:bb:cc:dd:ee:ff`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl std::fmt::Debug for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl std::str::FromStr for Mac {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bytes: Option<Vec<u8>> = text
            .split(':')
            .map(|p| u8::from_str_radix(p, 16).ok())
            .collect();
        bytes
            .and_then(|b| <[u8; 6]>::try_from(b).ok())
            .map(Mac)
            .ok_or_else(|| format!("{text} is not a MAC address"))
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A network interface as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// `bridge`, `vxlan`, `veth`, ...; `None` for devices without a kind (physical, loopback).
    pub kind: Option<String>,
    pub mtu: u32,
    pub up: bool,
    /// Index of the bridge this link is a port of.
    pub master: Option<u32>,
    pub vxlan: Option<Vxlan>,
    /// The hardware address (`IFLA_ADDRESS`), for Ethernet-like devices.
    pub mac: Option<Mac>,
    /// The settable bridge parameters, for bridges.
    pub bridge: Option<BridgeSettings>,
    /// Its own settings as a bridge port, for ports of a bridge.
    pub port: Option<PortSettings>,
}

#[cfg(test)]
impl Link {
    /// A plain link for unit tests: up, MTU 1500, MAC `02:00:00:00:00:<mac>`, no master, no
    /// kind-specific settings.
    pub(crate) fn for_test(index: u32, name: &str, kind: &str, mac: u8) -> Link {
        Link {
            index,
            name: name.to_owned(),
            kind: Some(kind.to_owned()),
            mtu: 1500,
            up: true,
            master: None,
            vxlan: None,
            mac: Some(Mac([2, 0, 0, 0, 0, mac])),
            bridge: None,
            port: None,
        }
    }
}

/// The bridge parameters a recreated bridge gets back (`IFLA_BR_*` of
/// `include/uapi/linux/if_link.h`, as `ip -d link` prints them). Read-only values (timers, root
/// and bridge ids, topology change counters) are not among them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeSettings {
    pub forward_delay: Option<u32>,
    pub hello_time: Option<u32>,
    pub max_age: Option<u32>,
    pub ageing_time: Option<u32>,
    pub stp_state: Option<u32>,
    pub priority: Option<u16>,
    pub vlan_filtering: Option<bool>,
    pub multicast_snooping: Option<bool>,
}

impl BridgeSettings {
    fn from_info(attrs: &[InfoBridge]) -> Self {
        let mut s = Self::default();
        for a in attrs {
            match a {
                InfoBridge::ForwardDelay(v) => s.forward_delay = Some(*v),
                InfoBridge::HelloTime(v) => s.hello_time = Some(*v),
                InfoBridge::MaxAge(v) => s.max_age = Some(*v),
                InfoBridge::AgeingTime(v) => s.ageing_time = Some(*v),
                InfoBridge::StpState(v) => s.stp_state = Some(u32::from(*v)),
                InfoBridge::Priority(v) => s.priority = Some(*v),
                InfoBridge::VlanFiltering(v) => s.vlan_filtering = Some(*v),
                InfoBridge::MulticastSnooping(v) => s.multicast_snooping = Some(*v),
                _ => {}
            }
        }
        s
    }

    fn to_info(&self) -> Vec<InfoBridge> {
        let mut out = Vec::new();
        // The order of `br_changelink`: the kernel applies them one by one.
        if let Some(v) = self.forward_delay {
            out.push(InfoBridge::ForwardDelay(v));
        }
        if let Some(v) = self.hello_time {
            out.push(InfoBridge::HelloTime(v));
        }
        if let Some(v) = self.max_age {
            out.push(InfoBridge::MaxAge(v));
        }
        if let Some(v) = self.ageing_time {
            out.push(InfoBridge::AgeingTime(v));
        }
        if let Some(v) = self.stp_state {
            out.push(InfoBridge::StpState(v.into()));
        }
        if let Some(v) = self.priority {
            out.push(InfoBridge::Priority(v));
        }
        // These two only when they differ from the kernel's default: a kernel built without
        // VLAN filtering (or IGMP snooping) refuses the attribute with EOPNOTSUPP even when it
        // asks for the default.
        if self.vlan_filtering == Some(true) {
            out.push(InfoBridge::VlanFiltering(true));
        }
        if self.multicast_snooping == Some(false) {
            out.push(InfoBridge::MulticastSnooping(false));
        }
        out
    }
}

/// A bridge port's own settings that a CNI plugin or an admin sets and that the kernel resets
/// when the link joins a bridge anew: `IFLA_BRPORT_*` of `include/uapi/linux/if_link.h`
/// (torvalds/linux), which an `RTM_GETLINK` dump reports in `IFLA_INFO_SLAVE_DATA` and
/// `ip -d link` prints after `bridge_slave`. A new port starts with learning and the three
/// floods on, the other flags off, priority 32 and a cost from the link's speed (`new_nbp` of
/// `net/bridge/br_if.c`, `br_init_port` of `net/bridge/br_stp_if.c`). The bridge CNI plugin's
/// `hairpinMode` is `hairpin` (containernetworking/plugins `plugins/main/bridge/bridge.go`:
/// `netlink.LinkSetHairpin` on the host veth once it joined the bridge). Read-only
/// values (port ids, STP state and timers) are not among them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSettings {
    /// `IFLA_BRPORT_MODE` (`hairpin on`).
    pub hairpin: Option<bool>,
    pub learning: Option<bool>,
    /// `IFLA_BRPORT_UNICAST_FLOOD` (`flood on`).
    pub flood: Option<bool>,
    pub mcast_flood: Option<bool>,
    pub bcast_flood: Option<bool>,
    pub neigh_suppress: Option<bool>,
    pub isolated: Option<bool>,
    pub cost: Option<u32>,
    pub priority: Option<u16>,
}

impl PortSettings {
    fn from_info(attrs: &[InfoBridgePort]) -> Self {
        let mut s = Self::default();
        for a in attrs {
            match a {
                InfoBridgePort::HairpinMode(v) => s.hairpin = Some(*v),
                InfoBridgePort::Learning(v) => s.learning = Some(*v),
                InfoBridgePort::UnicastFlood(v) => s.flood = Some(*v),
                InfoBridgePort::MulticastFlood(v) => s.mcast_flood = Some(*v),
                InfoBridgePort::BroadcastFlood(v) => s.bcast_flood = Some(*v),
                InfoBridgePort::NeighSupress(v) => s.neigh_suppress = Some(*v),
                InfoBridgePort::Isolated(v) => s.isolated = Some(*v),
                InfoBridgePort::Cost(v) => s.cost = Some(*v),
                InfoBridgePort::Priority(v) => s.priority = Some(*v),
                _ => {}
            }
        }
        s
    }

    fn to_info(&self) -> Vec<InfoBridgePort> {
        let flags = [
            (
                self.hairpin,
                InfoBridgePort::HairpinMode as fn(bool) -> InfoBridgePort,
            ),
            (self.learning, InfoBridgePort::Learning),
            (self.flood, InfoBridgePort::UnicastFlood),
            (self.mcast_flood, InfoBridgePort::MulticastFlood),
            (self.bcast_flood, InfoBridgePort::BroadcastFlood),
            (self.neigh_suppress, InfoBridgePort::NeighSupress),
            (self.isolated, InfoBridgePort::Isolated),
        ];
        let mut out: Vec<InfoBridgePort> = flags
            .into_iter()
            .filter_map(|(value, attr)| value.map(attr))
            .collect();
        out.extend(self.cost.map(InfoBridgePort::Cost));
        out.extend(self.priority.map(InfoBridgePort::Priority));
        out
    }

    /// What of `self` a port whose settings are `now` lacks: the settings to send to make
    /// it `self` (none sent when it already is, so a cost the kernel derived stays derived:
    /// setting one pins it, `BR_ADMIN_COST`).
    pub fn missing_from(&self, now: &PortSettings) -> PortSettings {
        fn differs<T: PartialEq + Copy>(want: Option<T>, now: Option<T>) -> Option<T> {
            want.filter(|w| now != Some(*w))
        }
        PortSettings {
            hairpin: differs(self.hairpin, now.hairpin),
            learning: differs(self.learning, now.learning),
            flood: differs(self.flood, now.flood),
            mcast_flood: differs(self.mcast_flood, now.mcast_flood),
            bcast_flood: differs(self.bcast_flood, now.bcast_flood),
            neigh_suppress: differs(self.neigh_suppress, now.neigh_suppress),
            isolated: differs(self.isolated, now.isolated),
            cost: differs(self.cost, now.cost),
            priority: differs(self.priority, now.priority),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// As `ip -d link` prints them (`hairpin on learning on ... cost 2 priority 32`), those known.
impl std::fmt::Display for PortSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |v: bool| if v { "on" } else { "off" };
        let mut words: Vec<String> = [
            ("hairpin", self.hairpin),
            ("learning", self.learning),
            ("flood", self.flood),
            ("mcast_flood", self.mcast_flood),
            ("bcast_flood", self.bcast_flood),
            ("neigh_suppress", self.neigh_suppress),
            ("isolated", self.isolated),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {}", on(v))))
        .collect();
        words.extend(self.cost.map(|c| format!("cost {c}")));
        words.extend(self.priority.map(|p| format!("priority {p}")));
        f.write_str(&words.join(" "))
    }
}

/// What a new link gets beyond its kind: used to recreate a deleted link as it was.
#[derive(Clone, Debug, Default)]
pub struct LinkExtras<'a> {
    /// The interface index to ask for (0: any). The kernel honours a free index.
    pub index: u32,
    pub mac: Option<Mac>,
    pub mtu: Option<u32>,
    pub bridge: Option<&'a BridgeSettings>,
}

/// The parameters of a VXLAN device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vxlan {
    pub vni: u32,
    pub port: u16,
    pub local: Option<Ipv4Addr>,
    /// Index of the underlay device.
    pub underlay: Option<u32>,
}

/// An interface address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub net: IpNet,
}

/// A unicast route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub protocol: u8,
    /// `RTA_PRIORITY` (`metric` in `ip route`).
    pub metric: Option<u32>,
}

/// A forwarding entry of a VXLAN device (`bridge fdb ... dev vx100 dst 172.16.0.4`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fdb {
    pub index: u32,
    pub mac: [u8; 6],
    pub destination: Option<IpAddr>,
}

/// A new link to create.
#[derive(Clone, Debug)]
pub enum NewLink<'a> {
    Bridge {
        name: &'a str,
    },
    Vxlan {
        name: &'a str,
        vni: u32,
        port: u16,
        local: Ipv4Addr,
        underlay: u32,
    },
}

/// How many requests [`Netlink::change_routes`] sends before reading their acknowledgements
/// (each ACK is under 100 bytes: far below the receive buffer).
const PIPELINE: usize = 256;

/// One open rtnetlink socket.
pub struct Netlink {
    socket: Socket,
    sequence: u32,
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Large dumps (thousands of routes) arrive in many datagrams; a bigger buffer avoids
        // ENOBUFS on busy hosts.
        let _ = socket.set_rx_buf_sz(1 << 20);
        Ok(Self {
            socket,
            sequence: 0,
        })
    }

    /// Sends one request and collects the replies until the kernel's ACK or end of dump.
    fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0)?;

        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut replies = Vec::new();
        loop {
            let (data, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < data.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = reply.header.length as usize;
                if length == 0 {
                    break;
                }
                offset += (length + 3) & !3;
                if reply.header.sequence_number != self.sequence {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(replies),
                            Some(_) => Err(e.to_io()),
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => {
                        replies.push(m);
                        if !dump && flags & NLM_F_ACK == 0 {
                            return Ok(replies);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn change(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.request(message, flags | NLM_F_ACK).map(|_| ())
    }

    /// Sends many change requests without waiting for each acknowledgement: up to
    /// [`PIPELINE`] requests go out in one datagram, then their ACKs are read back. The kernel
    /// handles every request of a datagram, in order, whether or not an earlier one failed, so
    /// the result of each request is its own (by sequence number), as with [`Self::change`].
    fn changes(&mut self, requests: Vec<(RouteNetlinkMessage, u16)>) -> Vec<io::Result<()>> {
        let mut results = Vec::with_capacity(requests.len());
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let chunk: Vec<_> = requests.by_ref().take(PIPELINE).collect();
            results.extend(self.pipeline(chunk));
        }
        results
    }

    fn pipeline(&mut self, chunk: Vec<(RouteNetlinkMessage, u16)>) -> Vec<io::Result<()>> {
        let first = self.sequence.wrapping_add(1);
        let mut buf = Vec::new();
        for (message, flags) in chunk.iter().cloned() {
            self.sequence = self.sequence.wrapping_add(1);
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            header.sequence_number = self.sequence;
            let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
            packet.finalize();
            let start = buf.len();
            buf.resize(start + packet.buffer_len(), 0);
            packet.serialize(&mut buf[start..]);
            // Messages in one datagram start at 4-byte boundaries.
            buf.resize((buf.len() + 3) & !3, 0);
        }
        let count = chunk.len();
        let mut results: Vec<Option<io::Result<()>>> = (0..count).map(|_| None).collect();
        if let Err(e) = self.socket.send(&buf, 0) {
            let kind = e.kind();
            return (0..count)
                .map(|_| Err(io::Error::new(kind, e.to_string())))
                .collect();
        }
        let mut pending = count;
        while pending > 0 {
            let data = match self.socket.recv_from_full() {
                Ok((data, _)) => data,
                Err(e) => {
                    // The answers are lost: nothing is known of the requests still waiting.
                    let kind = e.kind();
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(Err(io::Error::new(kind, e.to_string())));
                    }
                    break;
                }
            };
            let mut offset = 0;
            while offset < data.len() {
                let reply =
                    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[offset..]) {
                        Ok(r) => r,
                        Err(_) => break,
                    };
                let length = reply.header.length as usize;
                if length == 0 {
                    break;
                }
                offset += (length + 3) & !3;
                let index = reply.header.sequence_number.wrapping_sub(first) as usize;
                let Some(slot) = results.get_mut(index) else {
                    continue;
                };
                if let (None, NetlinkPayload::Error(e)) = (&slot, reply.payload) {
                    *slot = Some(match e.code {
                        None => Ok(()),
                        Some(_) => Err(e.to_io()),
                    });
                    pending -= 1;
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(io::Error::other("no acknowledgement"))))
            .collect()
    }

    /// Every link of the namespace.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let replies = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })
            .collect())
    }

    /// Every IPv4 and IPv6 address of the namespace.
    pub fn addresses(&mut self) -> io::Result<Vec<Address>> {
        let replies = self.request(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on
            // point-to-point links), so it wins when both are present.
            let mut addr = None;
            for attr in &a.attributes {
                match attr {
                    AddressAttribute::Local(ip) => addr = Some(*ip),
                    AddressAttribute::Address(ip) if addr.is_none() => addr = Some(*ip),
                    _ => {}
                }
            }
            if let Some(ip) = addr
                && let Ok(net) = IpNet::new(ip, a.header.prefix_len)
            {
                out.push(Address {
                    index: a.header.index,
                    net,
                });
            }
        }
        Ok(out)
    }

    /// The unicast routes of the main table, both families.
    pub fn routes(&mut self) -> io::Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut req = RouteMessage::default();
            req.header.address_family = family;
            let replies = self.request(RouteNetlinkMessage::GetRoute(req), NLM_F_DUMP)?;
            for m in replies {
                let RouteNetlinkMessage::NewRoute(r) = m else {
                    continue;
                };
                if r.header.kind != RouteType::Unicast {
                    continue;
                }
                let mut table = u32::from(r.header.table);
                let (mut dst, mut gateway, mut oif, mut metric) = (None, None, None, None);
                for attr in &r.attributes {
                    match attr {
                        RouteAttribute::Table(t) => table = *t,
                        RouteAttribute::Destination(a) => dst = route_ip(a),
                        RouteAttribute::Gateway(a) => gateway = route_ip(a),
                        RouteAttribute::Oif(i) => oif = Some(*i),
                        RouteAttribute::Priority(p) => metric = Some(*p),
                        _ => {}
                    }
                }
                if table != MAIN_TABLE {
                    continue;
                }
                let dst = dst.unwrap_or(match family {
                    AddressFamily::Inet6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                    _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                });
                if let Ok(destination) = IpNet::new(dst, r.header.destination_prefix_length) {
                    out.push(Route {
                        destination,
                        gateway,
                        oif,
                        protocol: u8::from(r.header.protocol),
                        metric,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The forwarding entries that belong to VXLAN devices themselves (`self` entries).
    pub fn fdb(&mut self) -> io::Result<Vec<Fdb>> {
        let mut req = NeighbourMessage::default();
        req.header.family = AddressFamily::Bridge;
        let replies = self.request(RouteNetlinkMessage::GetNeighbour(req), NLM_F_DUMP)?;
        let mut out = Vec::new();
        for m in replies {
            let RouteNetlinkMessage::NewNeighbour(n) = m else {
                continue;
            };
            if !n.header.flags.contains(NeighbourFlags::Own) {
                continue;
            }
            let mut mac = None;
            let mut destination = None;
            for attr in &n.attributes {
                match attr {
                    NeighbourAttribute::LinkLayerAddress(bytes) => {
                        mac = <[u8; 6]>::try_from(bytes.as_slice()).ok();
                    }
                    NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => {
                        destination = Some(IpAddr::V4(*ip));
                    }
                    NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip)) => {
                        destination = Some(IpAddr::V6(*ip));
                    }
                    // AF_BRIDGE entries carry the remote's address as raw bytes.
                    NeighbourAttribute::Destination(NeighbourAddress::Other(bytes)) => {
                        destination = match bytes.len() {
                            4 => <[u8; 4]>::try_from(bytes.as_slice()).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(bytes.as_slice())
                                .ok()
                                .map(IpAddr::from),
                            _ => None,
                        };
                    }
                    _ => {}
                }
            }
            if let Some(mac) = mac {
                out.push(Fdb {
                    index: n.header.ifindex,
                    mac,
                    destination,
                });
            }
        }
        Ok(out)
    }

    /// Creates a link (down; `set_up` brings it up), with `extras` when recreating one.
    pub fn create_link(&mut self, link: &NewLink<'_>, extras: &LinkExtras<'_>) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = extras.index;
        if let Some(mac) = extras.mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(mtu) = extras.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        match link {
            NewLink::Bridge { name } => {
                m.attributes.push(LinkAttribute::IfName((*name).to_owned()));
                let mut info = vec![LinkInfo::Kind(InfoKind::Bridge)];
                if let Some(settings) = extras.bridge {
                    info.push(LinkInfo::Data(InfoData::Bridge(settings.to_info())));
                }
                m.attributes.push(LinkAttribute::LinkInfo(info));
            }
            NewLink::Vxlan {
                name,
                vni,
                port,
                local,
                underlay,
            } => {
                m.attributes.push(LinkAttribute::IfName((*name).to_owned()));
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Vxlan),
                    LinkInfo::Data(InfoData::Vxlan(vec![
                        InfoVxlan::Id(*vni),
                        InfoVxlan::Local(*local),
                        InfoVxlan::Link(*underlay),
                        InfoVxlan::Port(*port),
                        // Peers are static FDB entries: learning would only add stale ones.
                        InfoVxlan::Learning(false),
                    ])),
                ]));
            }
        }
        self.change(RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Deletes a link by index.
    pub fn delete_link(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        self.change(RouteNetlinkMessage::DelLink(m), 0)
    }

    /// Sets a link's MTU.
    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(LinkAttribute::Mtu(mtu));
        self.change(RouteNetlinkMessage::SetLink(m), 0)
    }

    /// Brings a link up or down.
    pub fn set_up(&mut self, index: u32, up: bool) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        if up {
            m.header.flags = LinkFlags::Up;
        }
        m.header.change_mask = LinkFlags::Up;
        self.change(RouteNetlinkMessage::SetLink(m), 0)
    }

    /// Makes `index` a port of bridge `master` (`None`: of no bridge).
    pub fn set_master(&mut self, index: u32, master: Option<u32>) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes
            .push(LinkAttribute::Controller(master.unwrap_or(0)));
        self.change(RouteNetlinkMessage::SetLink(m), 0)
    }

    /// Sets the bridge-port settings `settings` names on port `index` (the others unchanged):
    /// an `RTM_NEWLINK` for the existing link with `IFLA_INFO_SLAVE_DATA`, which the kernel
    /// hands to the bridge (`rtnl_changelink` of `net/core/rtnetlink.c`, then
    /// `br_port_slave_changelink` of `net/bridge/br_netlink.c`), as
    /// `ip link set PORT type bridge_slave hairpin on` does.
    pub fn set_port(&mut self, index: u32, settings: &PortSettings) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(settings.to_info())),
        ]));
        self.change(RouteNetlinkMessage::NewLink(m), 0)
    }

    fn address_message(index: u32, net: &IpNet) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = family_of(&net.addr());
        m.header.prefix_len = net.prefix_len();
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(net.addr()));
        m.attributes.push(AddressAttribute::Address(net.addr()));
        if let IpNet::V4(v4) = net
            && v4.prefix_len() < 31
        {
            m.attributes
                .push(AddressAttribute::Broadcast(v4.broadcast()));
        }
        m
    }

    /// Adds an address to a link.
    pub fn add_address(&mut self, index: u32, net: &IpNet) -> io::Result<()> {
        self.change(
            RouteNetlinkMessage::NewAddress(Self::address_message(index, net)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Removes an address from a link.
    pub fn delete_address(&mut self, index: u32, net: &IpNet) -> io::Result<()> {
        self.change(
            RouteNetlinkMessage::DelAddress(Self::address_message(index, net)),
            0,
        )
    }

    fn route_message(route: &Route) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header.address_family = family_of(&route.destination.addr());
        m.header.destination_prefix_length = route.destination.prefix_len();
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::from(route.protocol);
        m.header.scope = if route.gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        m.header.kind = RouteType::Unicast;
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(
                route.destination.addr(),
            )));
        if let Some(gw) = route.gateway {
            m.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
        }
        if let Some(oif) = route.oif {
            m.attributes.push(RouteAttribute::Oif(oif));
        }
        if let Some(metric) = route.metric {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        m
    }

    /// Adds a route to the main table.
    pub fn add_route(&mut self, route: &Route) -> io::Result<()> {
        self.change(
            RouteNetlinkMessage::NewRoute(Self::route_message(route)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Deletes a route from the main table.
    pub fn delete_route(&mut self, route: &Route) -> io::Result<()> {
        self.change(Self::delete_route_message(route), 0)
    }

    fn delete_route_message(route: &Route) -> RouteNetlinkMessage {
        let mut m = Self::route_message(route);
        // Deletion matches on the protocol too unless it is left unspecified.
        m.header.protocol = RouteProtocol::Unspec;
        m.header.scope = RouteScope::NoWhere;
        RouteNetlinkMessage::DelRoute(m)
    }

    /// Adds (`true`) or deletes (`false`) many routes of the main table, pipelined; one result
    /// per route, in order, each exactly what [`Self::add_route`] or [`Self::delete_route`]
    /// would have returned.
    pub fn change_routes(&mut self, routes: &[(bool, Route)]) -> Vec<io::Result<()>> {
        self.changes(
            routes
                .iter()
                .map(|(add, route)| {
                    if *add {
                        (
                            RouteNetlinkMessage::NewRoute(Self::route_message(route)),
                            NLM_F_CREATE | NLM_F_EXCL,
                        )
                    } else {
                        (Self::delete_route_message(route), 0)
                    }
                })
                .collect(),
        )
    }

    fn fdb_message(entry: &Fdb) -> NeighbourMessage {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = entry.index;
        m.header.state = NeighbourState::Permanent;
        m.header.flags = NeighbourFlags::Own;
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(entry.mac.to_vec()));
        match entry.destination {
            Some(IpAddr::V4(ip)) => m
                .attributes
                .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(ip))),
            Some(IpAddr::V6(ip)) => m
                .attributes
                .push(NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip))),
            None => {}
        }
        m
    }

    /// Adds a forwarding entry to a VXLAN device; several all-zero entries may coexist.
    pub fn add_fdb(&mut self, entry: &Fdb) -> io::Result<()> {
        self.change(
            RouteNetlinkMessage::NewNeighbour(Self::fdb_message(entry)),
            NLM_F_CREATE | NLM_F_APPEND,
        )
    }

    /// Removes a forwarding entry of a VXLAN device.
    pub fn delete_fdb(&mut self, entry: &Fdb) -> io::Result<()> {
        self.change(
            RouteNetlinkMessage::DelNeighbour(Self::fdb_message(entry)),
            0,
        )
    }
}

fn family_of(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}

fn link_from(l: LinkMessage) -> Link {
    let mut link = Link {
        index: l.header.index,
        name: String::new(),
        kind: None,
        mtu: 0,
        up: l.header.flags.contains(LinkFlags::Up),
        master: None,
        vxlan: None,
        mac: None,
        bridge: None,
        port: None,
    };
    for attr in l.attributes {
        match attr {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Address(bytes) => {
                link.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(Mac)
            }
            LinkAttribute::Mtu(m) => link.mtu = m,
            LinkAttribute::Controller(m) if m != 0 => link.master = Some(m),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(k) => link.kind = Some(k.to_string()),
                        LinkInfo::Data(InfoData::Bridge(attrs)) => {
                            link.bridge = Some(BridgeSettings::from_info(&attrs));
                        }
                        LinkInfo::PortData(InfoPortData::BridgePort(attrs)) => {
                            link.port = Some(PortSettings::from_info(&attrs));
                        }
                        LinkInfo::Data(InfoData::Vxlan(attrs)) => {
                            let mut v = Vxlan {
                                vni: 0,
                                port: 0,
                                local: None,
                                underlay: None,
                            };
                            for a in attrs {
                                match a {
                                    InfoVxlan::Id(id) => v.vni = id,
                                    InfoVxlan::Port(p) => v.port = p,
                                    InfoVxlan::Local(ip) => v.local = Some(ip),
                                    InfoVxlan::Link(i) if i != 0 => v.underlay = Some(i),
                                    _ => {}
                                }
                            }
                            link.vxlan = Some(v);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bridge port's settings are read from `IFLA_INFO_SLAVE_DATA` (the bytes a kernel
    /// dump carries, parsed back), and restoring them sends only those that differ.
    #[test]
    fn port_settings_read_from_a_dump_and_restore_only_what_differs() {
        let mut m = LinkMessage::default();
        m.header.index = 9;
        m.attributes.push(LinkAttribute::IfName("veth1".into()));
        m.attributes.push(LinkAttribute::Controller(4));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::PortKind(InfoPortKind::Bridge),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![
                InfoBridgePort::Priority(32),
                InfoBridgePort::Cost(2),
                InfoBridgePort::HairpinMode(true),
                InfoBridgePort::Learning(true),
                InfoBridgePort::UnicastFlood(true),
                InfoBridgePort::PortNumber(1),
                InfoBridgePort::MulticastFlood(true),
                InfoBridgePort::BroadcastFlood(true),
                InfoBridgePort::NeighSupress(false),
                InfoBridgePort::Isolated(false),
            ])),
        ]));
        // Through the wire format, as a dump brings it.
        let mut packet = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m)),
        );
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf).unwrap();
        let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(parsed)) = reply.payload
        else {
            panic!("not a link: {reply:?}");
        };
        let link = link_from(parsed);
        assert_eq!(link.master, Some(4));
        let was = link.port.expect("a bridge port's settings");
        assert_eq!(
            was.to_string(),
            "hairpin on learning on flood on mcast_flood on bcast_flood on neigh_suppress off \
             isolated off cost 2 priority 32"
        );
        // Rejoined: the kernel's defaults, hairpin off. Only hairpin goes back.
        let now = PortSettings {
            hairpin: Some(false),
            ..was.clone()
        };
        let missing = was.missing_from(&now);
        assert_eq!(
            missing,
            PortSettings {
                hairpin: Some(true),
                ..PortSettings::default()
            }
        );
        assert_eq!(missing.to_info(), [InfoBridgePort::HairpinMode(true)]);
        assert!(was.missing_from(&was).is_empty());
        assert_eq!(PortSettings::from_info(&was.to_info()), was);
        // A link no bridge holds has none.
        let mut plain = LinkMessage::default();
        plain.attributes.push(LinkAttribute::IfName("eth0".into()));
        assert_eq!(link_from(plain).port, None);
    }
}
