//! One change to the host, and the change that undoes it.

use std::collections::BTreeMap;
use std::fmt;

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::Backend;
use super::host::netlink::{BridgeSettings, Mac, PortSettings};
use super::observe::LinkIdentity;

/// A link as it was before netc deleted it, with everything the kernel deletes along with it:
/// what [`Step::RestoreLink`] needs to put it back exactly (same index, MAC, MTU, up state,
/// bridge parameters and membership, addresses, routes through it, its bridge ports and their
/// port settings, its forwarding entries). Also the identity [`Step::DeleteLink`] checks
/// before deleting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSnapshot {
    #[serde(flatten)]
    pub spec: LinkSpec,
    /// The interface index (`None`: a link this apply creates, not yet known).
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub mac: Option<Mac>,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub up: bool,
    /// The bridge it was a port of.
    #[serde(default)]
    pub port_of: Option<String>,
    #[serde(default)]
    pub bridge: Option<BridgeSettings>,
    #[serde(default)]
    pub addresses: Vec<IpNet>,
    /// Routes of the main table leaving through it, except those the kernel derives from its
    /// addresses (`proto kernel`), which come back with the addresses.
    #[serde(default)]
    pub routes: Vec<RouteThrough>,
    /// The links that were ports of this bridge.
    #[serde(default)]
    pub ports: Vec<String>,
    /// The bridge-port settings (hairpin, learning, ...) of the links among `ports`, and of
    /// this link when it was a port (`port_of`), by link name: rejoining a bridge resets them.
    /// Absent from steps written before netc kept them (`pending.json` of an older netc):
    /// those restore the membership alone, as before.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub port_settings: BTreeMap<String, PortSettings>,
    /// Destinations of its all-zeros forwarding entries (VXLAN).
    #[serde(default)]
    pub fdb: Vec<IpAddr>,
}

impl LinkSnapshot {
    /// Which link the snapshot was taken of.
    pub fn identity(&self) -> LinkIdentity<'_> {
        LinkIdentity {
            spec: &self.spec,
            index: self.index,
            mac: self.mac,
        }
    }

    /// A link this apply creates: nothing to restore, no identity known yet.
    pub fn new(spec: LinkSpec) -> Self {
        Self {
            spec,
            index: None,
            mac: None,
            mtu: None,
            up: false,
            port_of: None,
            bridge: None,
            addresses: Vec::new(),
            routes: Vec::new(),
            ports: Vec::new(),
            port_settings: BTreeMap::new(),
            fdb: Vec::new(),
        }
    }
}

/// A route through a link, as [`LinkSnapshot`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteThrough {
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub protocol: u8,
    pub metric: Option<u32>,
}

/// One change. Each carries what it replaces, so [`Step::inverse`] can undo it exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    SetSysctl {
        key: String,
        from: String,
        to: String,
    },
    DeleteRoute(RouteSpec),
    DeleteFdb(FdbSpec),
    DeleteAddress(AddressSpec),
    /// Deletes a link after checking it is still the one observed (kind, index, MAC).
    DeleteLink(LinkSnapshot),
    CreateLink(LinkSpec),
    /// Recreates a deleted link with everything it had.
    RestoreLink(LinkSnapshot),
    /// Puts `link` in bridge `to` (`None`: out of any), out of `from`. Leaving a bridge drops
    /// the link's bridge-port settings and joining one starts from the kernel's defaults, so
    /// the step keeps what undoing it needs to put them back.
    SetMaster {
        link: String,
        from: Option<String>,
        to: Option<String>,
        /// The bridge-port settings (hairpin, learning, ...) `link` had as a port of `from`,
        /// when `from` is a bridge: the inverse gives them back (as its `to_port`).
        /// Absent from steps an older netc wrote (`pending.json`): those re-attach alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_port: Option<PortSettings>,
        /// The bridge-port settings to give `link` once it is a port of `to` (only those that
        /// differ from what it has then are sent): set in the inverse of a step that took the
        /// link out of `to`, none in a step `diff` plans.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_port: Option<PortSettings>,
    },
    SetMtu {
        link: String,
        from: u32,
        to: u32,
    },
    SetUp {
        link: String,
        up: bool,
    },
    AddAddress(AddressSpec),
    AddFdb(FdbSpec),
    AddRoute(RouteSpec),
    Firewall {
        backend: Backend,
        zone: String,
        /// What netc's part held before (`None`: nothing).
        from: Option<String>,
        /// What it holds after (`None`: removed).
        to: Option<String>,
    },
    WriteFile {
        path: String,
        from: Option<Vec<u8>>,
        to: Vec<u8>,
    },
    RemoveFile {
        path: String,
        from: Vec<u8>,
    },
}

impl Step {
    /// The step that undoes this one.
    pub fn inverse(&self) -> Step {
        match self.clone() {
            Step::SetSysctl { key, from, to } => Step::SetSysctl {
                key,
                from: to,
                to: from,
            },
            Step::DeleteRoute(r) => Step::AddRoute(r),
            Step::AddRoute(r) => Step::DeleteRoute(r),
            Step::DeleteFdb(f) => Step::AddFdb(f),
            Step::AddFdb(f) => Step::DeleteFdb(f),
            Step::DeleteAddress(a) => Step::AddAddress(a),
            Step::AddAddress(a) => Step::DeleteAddress(a),
            Step::DeleteLink(l) => Step::RestoreLink(l),
            Step::RestoreLink(l) => Step::DeleteLink(l),
            Step::CreateLink(l) => Step::DeleteLink(LinkSnapshot::new(l)),
            Step::SetMaster {
                link,
                from,
                to,
                from_port,
                to_port,
            } => Step::SetMaster {
                link,
                from: to,
                to: from,
                from_port: to_port,
                to_port: from_port,
            },
            Step::SetMtu { link, from, to } => Step::SetMtu {
                link,
                from: to,
                to: from,
            },
            Step::SetUp { link, up } => Step::SetUp { link, up: !up },
            Step::Firewall {
                backend,
                zone,
                from,
                to,
            } => Step::Firewall {
                backend,
                zone,
                from: to,
                to: from,
            },
            Step::WriteFile { path, from, to } => match from {
                Some(old) => Step::WriteFile {
                    path,
                    from: Some(to),
                    to: old,
                },
                None => Step::RemoveFile { path, from: to },
            },
            Step::RemoveFile { path, from } => Step::WriteFile {
                path,
                from: None,
                to: from,
            },
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::SetSysctl { key, from, to } => write!(f, "set sysctl {key} = {to} (was {from})"),
            Step::DeleteRoute(r) => write!(f, "delete route {} via {}", r.destination, r.via),
            Step::AddRoute(r) => write!(f, "add route {} via {}", r.destination, r.via),
            Step::DeleteFdb(e) => {
                write!(f, "delete forwarding entry {} -> {}", e.link, e.destination)
            }
            Step::AddFdb(e) => write!(f, "add forwarding entry {} -> {}", e.link, e.destination),
            Step::DeleteAddress(a) => write!(f, "delete address {} from {}", a.net, a.link),
            Step::AddAddress(a) => write!(f, "add address {} to {}", a.net, a.link),
            Step::DeleteLink(l) => write!(f, "delete {} {}", l.spec.kind(), l.spec.name()),
            Step::RestoreLink(l) => write!(f, "restore {} {}", l.spec.kind(), l.spec.name()),
            Step::CreateLink(LinkSpec::Bridge { name }) => write!(f, "create bridge {name}"),
            Step::CreateLink(LinkSpec::Vxlan {
                name,
                vni,
                port,
                local,
                underlay,
                ..
            }) => write!(
                f,
                "create vxlan {name} (vni {vni}, port {port}, local {local}, dev {underlay})"
            ),
            Step::SetMaster { link, to, .. } => match to {
                Some(m) => write!(f, "attach {link} to bridge {m}"),
                None => write!(f, "detach {link} from its bridge"),
            },
            Step::SetMtu { link, from, to } => write!(f, "set mtu of {link} to {to} (was {from})"),
            Step::SetUp { link, up } => {
                write!(f, "set {link} {}", if *up { "up" } else { "down" })
            }
            Step::Firewall {
                backend, from, to, ..
            } => {
                let what = match backend {
                    Backend::Nftables => "nftables table inet netc",
                    Backend::Firewalld => "firewalld zone rules",
                };
                match (from, to) {
                    (None, Some(_)) => write!(f, "load {what}"),
                    (Some(_), Some(_)) => write!(f, "replace {what}"),
                    (_, None) => write!(f, "remove {what}"),
                }
            }
            Step::WriteFile { path, from, .. } => {
                write!(
                    f,
                    "{} file {path}",
                    if from.is_some() { "update" } else { "write" }
                )
            }
            Step::RemoveFile { path, .. } => write!(f, "remove file {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps go to `pending.json` for `--try`: every link step must read back as written.
    #[test]
    fn link_steps_round_trip_through_json() {
        let spec = LinkSpec::Vxlan {
            name: "vx100".into(),
            vni: 100,
            port: crate::plan::HOST_OVERLAY_VXLAN_PORT,
            local: "172.16.0.3".parse().unwrap(),
            underlay: "eth0".into(),
            master: Some("scbr0".into()),
        };
        let snapshot = LinkSnapshot {
            index: Some(7),
            mac: Some(Mac([2, 0, 0, 0, 0, 7])),
            mtu: Some(1450),
            up: true,
            port_of: Some("scbr0".into()),
            fdb: vec!["172.16.0.4".parse().unwrap()],
            ..LinkSnapshot::new(spec.clone())
        };
        for step in [
            Step::CreateLink(spec.clone()),
            Step::DeleteLink(snapshot.clone()),
            Step::RestoreLink(snapshot),
        ] {
            let text = serde_json::to_string(&step).unwrap();
            let back: Step = serde_json::from_str(&text).unwrap();
            assert_eq!(back, step, "{text}");
            if !matches!(step, Step::CreateLink(_)) {
                assert_eq!(back.inverse().inverse(), step);
            }
        }
        assert_eq!("02:00:00:00:00:07".parse(), Ok(Mac([2, 0, 0, 0, 0, 7])));
        assert!("02:00:00".parse::<Mac>().is_err());
        assert_eq!(Mac([2, 0, 0, 0, 0, 7]).to_string(), "02:00:00:00:00:07");
    }

    /// A deleted bridge's steps keep its ports' bridge-port settings through `pending.json`,
    /// and steps an older netc wrote (no `port_settings`) still load, with none.
    #[test]
    fn port_settings_round_trip_and_older_steps_load_without_them() {
        let hairpin = PortSettings {
            hairpin: Some(true),
            learning: Some(true),
            cost: Some(2),
            priority: Some(32),
            ..PortSettings::default()
        };
        let snapshot = LinkSnapshot {
            index: Some(4),
            mac: Some(Mac([2, 0, 0, 0, 0, 4])),
            up: true,
            ports: vec!["veth1".into(), "veth2".into()],
            port_settings: BTreeMap::from([
                ("veth1".into(), hairpin.clone()),
                ("veth2".into(), PortSettings::default()),
            ]),
            ..LinkSnapshot::new(LinkSpec::Bridge {
                name: "cni0".into(),
            })
        };
        let step = Step::DeleteLink(snapshot.clone());
        let text = serde_json::to_string(&step).unwrap();
        assert!(text.contains(r#""veth1":{"hairpin":true,"#), "{text}");
        assert_eq!(serde_json::from_str::<Step>(&text).unwrap(), step);

        // As a netc without port settings wrote it.
        let older = r#"{"step":"restore-link","kind":"bridge","name":"cni0","index":4,
            "mac":"02:00:00:00:00:04","mtu":1500,"up":true,"port_of":null,"bridge":null,
            "addresses":[],"routes":[],"ports":["veth1"],"fdb":[]}"#;
        let Step::RestoreLink(read) = serde_json::from_str::<Step>(older).unwrap() else {
            panic!("not a restore step");
        };
        assert_eq!(read.ports, ["veth1"]);
        assert!(read.port_settings.is_empty());
        // ... and a snapshot without any is written as before.
        let plain = serde_json::to_string(&Step::RestoreLink(read)).unwrap();
        assert!(!plain.contains("port_settings"), "{plain}");

        // A link moved between bridges: the step keeps its port settings through
        // `pending.json`, and one an older netc wrote loads without them.
        let moved = Step::SetMaster {
            link: "vx100".into(),
            from: Some("other0".into()),
            to: Some("scbr0".into()),
            from_port: Some(hairpin),
            to_port: None,
        };
        let text = serde_json::to_string(&moved).unwrap();
        assert!(text.contains(r#""from_port":{"hairpin":true,"#), "{text}");
        assert!(!text.contains("to_port"), "{text}");
        assert_eq!(serde_json::from_str::<Step>(&text).unwrap(), moved);
        let back = serde_json::to_string(&moved.inverse()).unwrap();
        assert_eq!(
            serde_json::from_str::<Step>(&back).unwrap(),
            moved.inverse()
        );
        let older = r#"{"step":"set-master","link":"vx100","from":"other0","to":"scbr0"}"#;
        let read = serde_json::from_str::<Step>(older).unwrap();
        assert_eq!(
            read,
            Step::SetMaster {
                link: "vx100".into(),
                from: Some("other0".into()),
                to: Some("scbr0".into()),
                from_port: None,
                to_port: None,
            }
        );
        assert_eq!(serde_json::to_string(&read).unwrap(), older);
    }

    /// Undoing a move out of a bridge (to another, or out of any) re-attaches the link with the
    /// port settings it had there; undoing that undo takes them out again.
    #[test]
    fn the_inverse_of_leaving_a_bridge_gives_the_port_settings_back() {
        let hairpin = PortSettings {
            hairpin: Some(true),
            ..PortSettings::default()
        };
        for to in [Some("scbr0".to_owned()), None] {
            let step = Step::SetMaster {
                link: "vx100".into(),
                from: Some("other0".into()),
                to: to.clone(),
                from_port: Some(hairpin.clone()),
                to_port: None,
            };
            let undo = step.inverse();
            assert_eq!(
                undo,
                Step::SetMaster {
                    link: "vx100".into(),
                    from: to,
                    to: Some("other0".into()),
                    from_port: None,
                    to_port: Some(hairpin.clone()),
                }
            );
            assert_eq!(undo.inverse(), step);
        }
        // Joining a bridge from none: nothing to give back.
        let join = Step::SetMaster {
            link: "vx100".into(),
            from: None,
            to: Some("scbr0".into()),
            from_port: None,
            to_port: None,
        };
        assert!(matches!(
            join.inverse(),
            Step::SetMaster {
                to: None,
                to_port: None,
                ..
            }
        ));
    }
}
