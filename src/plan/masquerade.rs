//! Who rewrites a pod's source address to its node's when the pod's traffic leaves the node,
//! and to which destinations: one fact per node, read by `explain` (the address a destination
//! sees) and by the node firewall (the rule netc itself emits for the bridge plugin).
//!
//! Every masquerade here is a `postrouting` rule: it sees only traffic that leaves the node, so
//! a pod reaching its own node's addresses is delivered locally and keeps its address (the
//! caller decides that). Off-cluster addresses and other nodes' addresses are alike to every
//! rule below except Cilium's with native routing, which leaves cluster nodes alone.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{CiliumSettings, CniInstall, NodePlan, Plan, PluginSettings};
use crate::intent::Distribution;

/// IPv4 multicast, which flanneld never masquerades (`! -d 224.0.0.0/4`).
const MULTICAST_V4: IpNet = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4));

/// IPv6 multicast, which flanneld never masquerades (`! -d ff00::/8`).
const MULTICAST_V6: IpNet = IpNet::V6(Ipv6Net::new_assert(
    Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
    8,
));

/// What masquerades a node's pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masquerader {
    /// The node firewall netc emits (bridge plugin): nftables `postrouting`, or firewalld's
    /// masquerade rich rule.
    NodeFirewall,
    /// flanneld's `--ip-masq` (flannel, and Canal's flannel).
    Flanneld,
    /// The bridge plugin's `ipMasq`, which the flannel CNI plugin turns on in its delegate
    /// when flanneld does not masquerade and the conflist leaves `ipMasq` unset.
    FlannelBridge,
    /// Felix, for an IP pool with `natOutgoing: true`.
    CalicoNatOutgoing,
    /// The Cilium agent's iptables masquerade (`enableIPv4Masquerade`/`enableIPv6Masquerade`).
    Cilium,
}

impl Masquerader {
    /// How `explain` names it.
    pub fn describe(self) -> &'static str {
        match self {
            Masquerader::NodeFirewall => "postrouting",
            Masquerader::Flanneld => "flanneld --ip-masq",
            Masquerader::FlannelBridge => "bridge plugin ipMasq",
            Masquerader::CalicoNatOutgoing => "Calico natOutgoing",
            Masquerader::Cilium => "Cilium masquerade",
        }
    }
}

/// One rule: traffic from `source` to anywhere but `except` leaves as the node's address.
#[derive(Clone, Debug, PartialEq)]
pub struct MasqueradeRule {
    pub source: IpNet,
    /// Destinations the rule leaves alone.
    pub except: Vec<IpNet>,
}

/// One node's masquerade: by whom, and its rules (none: its pods always keep their address).
#[derive(Clone, Debug, PartialEq)]
pub struct Masquerade {
    pub by: Masquerader,
    pub rules: Vec<MasqueradeRule>,
    /// Destinations netc does not know whether the masquerade covers (beyond `rules`): such a
    /// destination may see the pod or its node.
    pub uncertain: Vec<Uncertain>,
}

/// Pods of `source` to a destination in `within` but not in `except`: maybe masqueraded.
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertain {
    pub source: IpNet,
    pub within: Vec<IpNet>,
    pub except: Vec<IpNet>,
    /// Why netc does not know.
    pub why: String,
}

/// Whether two networks share an address (never across families).
fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Whether `rule_source` masquerades a pod of `pod_ranges` towards `d`'s family.
fn from_pods(rule_source: &IpNet, pod_ranges: &[IpNet], d: &IpNet) -> bool {
    rule_source.addr().is_ipv4() == d.addr().is_ipv4()
        && pod_ranges.iter().any(|p| rule_source.contains(p))
}

impl MasqueradeRule {
    /// The exclusions that cover part of `d` but not all of it (a destination network only
    /// partly left alone: some of its addresses see the pod, others the node).
    fn partly_excluded(&self, d: &IpNet) -> Vec<IpNet> {
        if self.except.iter().any(|e| e.contains(d)) {
            return Vec::new();
        }
        self.except
            .iter()
            .copied()
            .filter(|e| overlaps(e, d))
            .collect()
    }
}

impl Masquerade {
    /// The network under which a connection from a pod of `pod_ranges` (its node's pod
    /// subnets) to `destination` leaves its node as the node's address, if any does: only
    /// a destination disjoint from every network the rule leaves alone (one that overlaps
    /// one only in part is [`Self::may_masquerade`]).
    pub fn masquerades(&self, pod_ranges: &[IpNet], destination: &[IpNet]) -> Option<IpNet> {
        destination.iter().find_map(|d| {
            self.rules
                .iter()
                .find(|r| {
                    from_pods(&r.source, pod_ranges, d) && !r.except.iter().any(|e| overlaps(e, d))
                })
                .map(|r| r.source)
        })
    }

    /// The network under which netc does not know whether a connection from a pod of
    /// `pod_ranges` to `destination` leaves its node masqueraded, if any: a destination
    /// network only partly inside what a rule leaves alone, or one overlapping an
    /// `uncertain` network.
    pub fn may_masquerade(&self, pod_ranges: &[IpNet], destination: &[IpNet]) -> Option<IpNet> {
        destination.iter().find_map(|d| {
            self.rules
                .iter()
                .find(|r| from_pods(&r.source, pod_ranges, d) && !r.partly_excluded(d).is_empty())
                .map(|r| r.source)
                .or_else(|| {
                    self.uncertain
                        .iter()
                        .find(|u| {
                            from_pods(&u.source, pod_ranges, d)
                                && u.within.iter().any(|w| overlaps(w, d))
                                && !u.except.iter().any(|e| e.contains(d))
                        })
                        .map(|u| u.source)
                })
        })
    }

    /// Why netc does not know whether the masquerade of `source` applies to `destination`.
    pub fn why_uncertain(&self, source: IpNet, destination: &[IpNet]) -> String {
        for d in destination {
            for r in self.rules.iter().filter(|r| r.source == source) {
                let parts = r.partly_excluded(d);
                if !parts.is_empty() {
                    let shown: Vec<String> = parts.iter().map(|n| n.to_string()).collect();
                    return format!(
                        "{d} is only partly inside what it leaves alone ({}): some of its addresses see the pod, the others the node",
                        shown.join(", ")
                    );
                }
            }
        }
        self.uncertain
            .iter()
            .find(|u| u.source == source)
            .map_or_else(String::new, |u| u.why.clone())
    }

    /// The networks the node firewall itself masquerades (what `emit::firewall` writes).
    pub fn firewall_networks(&self) -> Vec<IpNet> {
        if self.by == Masquerader::NodeFirewall {
            self.rules.iter().map(|r| r.source).collect()
        } else {
            Vec::new()
        }
    }

    fn none(by: Masquerader) -> Self {
        Masquerade {
            by,
            rules: Vec::new(),
            uncertain: Vec::new(),
        }
    }
}

/// The first pod CIDR of each family: flannel's net-conf `Network` and `IPv6Network`
/// (`emit::flannel`), and Cilium's native routing CIDRs.
pub fn first_pod_cidrs(plan: &Plan) -> (Option<IpNet>, Option<IpNet>) {
    let first = |v6: bool| {
        plan.pod_cidrs
            .iter()
            .copied()
            .find(|n| matches!(n, IpNet::V6(_)) == v6)
    };
    (first(false), first(true))
}

/// Cilium's `ipv4NativeRoutingCIDR` / `ipv6NativeRoutingCIDR` with native routing: the first
/// pod CIDR of the family (`emit::cilium::datapath`); `None` with tunnel routing.
pub fn cilium_native_routing_cidr(plan: &Plan, cilium: &CiliumSettings, v6: bool) -> Option<IpNet> {
    let (v4_net, v6_net) = first_pod_cidrs(plan);
    let net = if v6 { v6_net } else { v4_net };
    net.filter(|_| cilium.tunnel_port.is_none())
}

/// The masquerade of `node`'s pods, from the settings the emitters render.
pub fn node_masquerade(plan: &Plan, node: &NodePlan) -> Masquerade {
    match &plan.cni.settings {
        // netc's conflist has `ipMasq: false`; the node firewall masquerades instead
        // (`plan::firewall::host_masquerades`), and only when there is a firewall:
        // `ip saddr NET ip daddr != NET masquerade` (`templates/firewall/netc.nft.j2`),
        // firewalld `source address=NET destination NOT address=NET masquerade`.
        PluginSettings::Bridge(_) => {
            if !(super::firewall::host_masquerades(plan) && plan.firewall.is_some()) {
                return Masquerade::none(Masquerader::NodeFirewall);
            }
            Masquerade {
                by: Masquerader::NodeFirewall,
                uncertain: Vec::new(),
                rules: plan
                    .pod_cidrs
                    .iter()
                    .map(|&n| MasqueradeRule {
                        source: n,
                        except: vec![n],
                    })
                    .collect(),
            }
        }
        PluginSettings::Flannel(_) | PluginSettings::Canal(_) => flanneld(plan, node),
        PluginSettings::Calico(c) => {
            // projectcalico/calico `felix/rules/nat.go` (makeNATOutgoingRuleIPTables, v3.30):
            // `-m set --match-set cali40masq-ipam-pools src -m set ! --match-set
            // cali40all-ipam-pools dst -j MASQUERADE`; `felix/dataplane/linux/masq_mgr.go`
            // fills masq-ipam-pools with the pools whose natOutgoing is true and
            // all-ipam-pools with every pool. FelixConfiguration `natOutgoingExclusions`
            // defaults to `IPPoolsOnly` (projectcalico/api `felixconfig.go`; netc does not
            // set it), so other nodes' addresses are masqueraded too (`IPPoolsAndHostIPs`
            // would add `! --match-set cali40all-hosts-net dst`).
            let rules = c
                .pools
                .iter()
                .filter(|p| p.nat_outgoing)
                .map(|p| MasqueradeRule {
                    source: p.cidr,
                    except: c.pools.iter().map(|q| q.cidr).collect(),
                })
                .collect();
            Masquerade {
                by: Masquerader::CalicoNatOutgoing,
                rules,
                uncertain: Vec::new(),
            }
        }
        PluginSettings::Cilium(c) => cilium(plan, node, c),
        PluginSettings::None => Masquerade::none(Masquerader::NodeFirewall),
    }
}

/// flanneld with `--ip-masq` (flannel-io/flannel v0.28.9 `main.go`: `SetupAndEnsureMasqRules`
/// with net-conf's `Network` and `IPv6Network`; `pkg/trafficmngr/iptables/iptables.go`
/// `masqRules`, the same in `pkg/trafficmngr/nftables/nftables.go` `addMasqRules`): chain
/// FLANNEL-POSTRTG returns for traffic from the node's subnet to the network and from the
/// network to the node's subnet, then `-s NETWORK ! -d 224.0.0.0/4 -j MASQUERADE` (IPv6
/// `! -d ff00::/8`). Traffic from a pod to anywhere outside the network, other nodes'
/// addresses included, leaves as its node's address; to pods it keeps its own.
///
/// Without `--ip-masq`, flanneld writes `FLANNEL_IPMASQ=false` into `subnet.env`
/// (flannel-io/flannel `pkg/subnet` `WriteSubnetFile`, master), and the flannel CNI
/// plugin, unless its delegate sets `ipMasq`, sets the delegate's `ipMasq` to the opposite
/// ("if flannel is not doing ipmasq, we should": flannel-io/cni-plugin `flannel_linux.go`
/// `doCmdAdd`, commit 6f13a99). The bridge plugin then masquerades each pod's
/// address to everything outside the pod's own subnet (the node's) but multicast
/// (containernetworking/plugins `pkg/ip/ipmasq_iptables_linux.go` `SetupIPMasq`, commit 2d7d599: `-d
/// <subnet> -j ACCEPT`, `! -d 224.0.0.0/4 -j MASQUERADE`, IPv6 `ff00::/8`): other nodes' pods
/// included. netc's own flannel conflist sets `ipMasq: false` then (`emit::cni`); RKE2's
/// rke2-flannel chart ships a conflist without it (flannel-io/flannel
/// `chart/kube-flannel/templates/config.yaml`, which rke2-charts' `config.yaml.patch` leaves
/// alone), so there the bridge plugin masquerades (`plan::cni` reports natOutgoing not applied).
fn flanneld(plan: &Plan, node: &NodePlan) -> Masquerade {
    let (v4, v6) = first_pod_cidrs(plan);
    let masq = |is_v6: bool| -> bool {
        match &plan.cni.settings {
            // calico `manifests/canal.yaml` and rke2-charts `rke2-canal`: `FLANNELD_IP_MASQ`
            // from canal-config's `masquerade`, which netc writes (`emit::canal`, `emit::rke2`).
            PluginSettings::Canal(c) => c.masquerade,
            PluginSettings::Flannel(f) => match plan.distribution {
                // flannel-io/flannel `Documentation/kube-flannel.yml`: flanneld runs with
                // `--ip-masq` whatever netc writes (`natOutgoing: false` is reported).
                Distribution::Kubeadm => true,
                // k3s-io/k3s `pkg/agent/flannel/flannel.go`: IPv4 masquerade always, IPv6
                // only with `flannel-ipv6-masq` (`emit::k3s`, from `ip_masq`).
                Distribution::K3s => !is_v6 || f.ip_masq,
                // rke2-flannel's `flannel.args` (`emit::rke2`), host flanneld's flags
                // (`emit::flanneld`).
                Distribution::Rke2 | Distribution::Manual => f.ip_masq,
                // netc installs no flannel on Canonical Kubernetes (its CNIs are Cilium and
                // Calico: `plan::profile` `canonical_cni_plugins`; `check` refuses flannel).
                Distribution::Canonical => false,
            },
            _ => false,
        }
    };
    if let PluginSettings::Flannel(f) = &plan.cni.settings
        && plan.distribution == Distribution::Rke2
        && !f.ip_masq
    {
        return flannel_bridge(node);
    }
    let rules = [(v4, false), (v6, true)]
        .into_iter()
        .filter_map(|(net, is_v6)| {
            let net = net.filter(|_| masq(is_v6))?;
            Some(MasqueradeRule {
                source: net,
                except: vec![net, multicast(is_v6)],
            })
        })
        .collect();
    Masquerade {
        by: Masquerader::Flanneld,
        rules,
        uncertain: Vec::new(),
    }
}

/// The multicast network of a family, which neither flanneld nor the bridge plugin masquerades.
fn multicast(v6: bool) -> IpNet {
    if v6 { MULTICAST_V6 } else { MULTICAST_V4 }
}

/// The bridge plugin's `ipMasq` as the flannel CNI plugin turns it on (see [`flanneld`]): each
/// of the node's pod subnets to anywhere outside it but multicast.
fn flannel_bridge(node: &NodePlan) -> Masquerade {
    Masquerade {
        by: Masquerader::FlannelBridge,
        rules: node
            .pod_cidrs
            .iter()
            .map(|&subnet| MasqueradeRule {
                source: subnet,
                except: vec![subnet, multicast(matches!(subnet, IpNet::V6(_)))],
            })
            .collect(),
        uncertain: Vec::new(),
    }
}

/// Cilium's iptables masquerade, which the Cilium netc installs uses: `kubeProxyReplacement`
/// false and no `bpf.masquerade` (`emit::cilium`), so `IptablesMasqueradingIPv4Enabled`
/// (cilium/cilium `pkg/option/config.go`: `!EnableBPFMasquerade && EnableIPv4Masquerade`).
/// cilium/cilium `pkg/datapath/iptables/iptables.go` (installMasqueradeRules): `-s
/// <node's allocation range> ! -d <exclusion> ! -o cilium_+ -j MASQUERADE`, the exclusion
/// being `ipv4NativeRoutingCIDR` when set, else the node's range
/// (`remoteSNATDstAddrExclusionCIDR`). With tunnel routing, traffic to other nodes' pods
/// leaves on `cilium_vxlan` (`! -o cilium_+`): only the pod network keeps its address, other
/// nodes' addresses are masqueraded. With native routing (`NodeIpsetNeeded`: tunnel disabled)
/// a rule before it accepts traffic to the cluster nodes' ipset unmasqueraded ("exclude
/// traffic to cluster nodes from masquerade").
/// Canonical Kubernetes' Cilium is k8s-snap's configuration, not netc's: the profile's
/// `Masquerade(Cilium)` fact for the version says how ([`canonical_cilium`]).
fn cilium(plan: &Plan, node: &NodePlan, settings: &CiliumSettings) -> Masquerade {
    if plan.cni_install() == CniInstall::Builtin {
        return canonical_cilium(plan, node);
    }
    if !settings.masquerade {
        return Masquerade::none(Masquerader::Cilium);
    }
    let rules = node
        .pod_cidrs
        .iter()
        .map(|&range| {
            let v6 = matches!(range, IpNet::V6(_));
            cilium_rule(plan, range, cilium_native_routing_cidr(plan, settings, v6))
        })
        .collect();
    Masquerade {
        by: Masquerader::Cilium,
        rules,
        uncertain: Vec::new(),
    }
}

/// Cilium's rule for a node's pod `range`: with native routing (`native`, the family's
/// native routing CIDR) it leaves that CIDR and the cluster nodes' addresses alone, with
/// tunnel routing the pod network.
fn cilium_rule(plan: &Plan, range: IpNet, native: Option<IpNet>) -> MasqueradeRule {
    let v6 = matches!(range, IpNet::V6(_));
    let except = match native {
        Some(native) => std::iter::once(native).chain(node_ips(plan, v6)).collect(),
        None => plan
            .pod_cidrs
            .iter()
            .copied()
            .filter(|n| matches!(n, IpNet::V6(_)) == v6)
            .collect(),
    };
    MasqueradeRule {
        source: range,
        except,
    }
}

/// Canonical Kubernetes' built-in Cilium, as the profile's fact for the version says
/// (`plan/profile/canonical.rs`, `Masquerade(Cilium)`): Cilium's iptables masquerade of both
/// families (IPv4 only where Cilium runs no IPv6: 1.30), tunnel routing; where its
/// `Encapsulations(Cilium)` fact routes an IPv6-only cluster natively (1.32–1.34),
/// `ipv6NativeRoutingCIDR` is the network of
/// the address of the node k8sd applies the values from (canonical/k8s-snap
/// `src/k8s/pkg/k8sd/features/cilium/network.go`, `utils.FindCIDRForIP(nodeIP)`), which the
/// control-plane nodes' addresses decide only when they share one network.
fn canonical_cilium(plan: &Plan, node: &NodePlan) -> Masquerade {
    let by = Masquerader::Cilium;
    let mut m = Masquerade::none(by);
    // Resolved at every version of a Canonical Cilium (outside the fact's ranges the newest,
    // and `check` reports it: explain then answers nothing).
    let Some(fact) = plan.profile.cilium_masquerade else {
        return m;
    };
    // Native routing is the profile's `Encapsulations(Cilium)` fact for this cluster's pod
    // families (IPv6-only pods on 1.32–1.34).
    let native = plan.profile.native_routing();
    for &range in &node.pod_cidrs {
        let v6 = matches!(range, IpNet::V6(_));
        if v6 && !fact.ipv6 {
            continue; // Cilium runs no IPv6 (`ipv6.enabled` false)
        }
        if !(v6 && native) {
            m.rules.push(cilium_rule(plan, range, None));
            continue;
        }
        // Native routing, `ipv6NativeRoutingCIDR` the network of the control-plane node k8sd
        // applies the values from: known when the control-plane nodes share one network.
        let networks = control_plane_networks_v6(plan);
        match networks.as_slice() {
            [one] => m.rules.push(cilium_rule(plan, range, Some(*one))),
            _ => {
                // Surely masqueraded outside every candidate network and node address; inside
                // a candidate network, unknown; to a node address, never (cilium's node ipset).
                let mut rule = cilium_rule(plan, range, None);
                let node_ips: Vec<IpNet> = node_ips(plan, true);
                rule.except = networks.iter().copied().chain(node_ips.clone()).collect();
                m.rules.push(rule);
                let shown: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
                m.uncertain.push(Uncertain {
                    source: range,
                    within: networks.clone(),
                    except: node_ips,
                    why: format!(
                        "Canonical Kubernetes {} routes an IPv6-only cluster natively, `ipv6NativeRoutingCIDR` the network of the control-plane node k8sd applies Cilium from, and the control-plane nodes are on {}",
                        plan.profile.version.map(|v| v.to_string()).unwrap_or_default(),
                        shown.join(", ")
                    ),
                });
            }
        }
    }
    m
}

/// Every node's address of the family (v6: IPv6), as host networks: cilium's node ipset.
fn node_ips(plan: &Plan, v6: bool) -> Vec<IpNet> {
    plan.nodes
        .iter()
        .flat_map(|n| [n.address, n.secondary_address])
        .flatten()
        .map(|a: IpNet| IpNet::from(a.addr()))
        .filter(|a| matches!(a.addr(), IpAddr::V6(_)) == v6)
        .collect()
}

/// The networks the control-plane nodes' IPv6 addresses are on, each once.
fn control_plane_networks_v6(plan: &Plan) -> Vec<IpNet> {
    let mut nets: Vec<IpNet> = Vec::new();
    for n in plan.nodes.iter().filter(|n| n.is_control_plane()) {
        if let Some(net) = [n.address, n.secondary_address]
            .into_iter()
            .flatten()
            .find(|a| matches!(a, IpNet::V6(_)))
            .map(|a| a.trunc())
            && !nets.contains(&net)
        {
            nets.push(net);
        }
    }
    nets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use crate::intent::Syntax;

    fn plan(text: &str) -> Plan {
        let src = SourceFile::new("t.yaml", text);
        let intent = crate::intent::parse(&src, Syntax::Yaml).expect("intent");
        super::super::lower(&intent, text)
    }

    fn intent(distribution: &str, cni: &str) -> String {
        format!(
            "apiVersion: netc/v1alpha1\nkind: NetworkIntent\nmetadata: {{name: m}}\n\
             cluster:\n  distribution: {distribution}\n  kubernetesVersion: v1.31.2\n  \
             podCIDR: [10.244.0.0/16, \"fd00:10:244::/56\"]\n  serviceCIDR: [10.96.0.0/12, \"fd00:10:96::/112\"]\n\
             cni: {cni}\n\
             nodes:\n  - {{name: a, role: control-plane, address: 10.0.1.10/24, secondaryAddress: \"fd00::10/64\"}}\n  \
             - {{name: b, role: worker, address: 10.0.1.11/24, secondaryAddress: \"fd00::11/64\"}}\n"
        )
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("net")
    }

    /// The masquerade network for a pod of node `a` to `to`.
    fn masq(p: &Plan, to: &str) -> Option<IpNet> {
        let a = &p.nodes[0];
        node_masquerade(p, a).masquerades(&a.pod_cidrs, &[net(to)])
    }

    /// Which families flanneld masquerades, per distribution: kube-flannel.yml always, k3s
    /// IPv4 always and IPv6 with natOutgoing, RKE2 and host flanneld as natOutgoing says;
    /// multicast never. RKE2 without `--ip-masq`: the bridge plugin's `ipMasq` (the chart's
    /// conflist leaves it to the flannel CNI plugin) masquerades everything outside the node's
    /// own pod subnet, other nodes' pods included; host flanneld's conflist (netc's) turns it
    /// off.
    #[test]
    fn flanneld_masquerades_per_distribution_and_family() {
        let off = "{plugin: flannel, calico: {natOutgoing: false}}";
        let on = "{plugin: flannel}";
        for (distribution, cni, v4, v6, pods, by) in [
            ("kubeadm", on, true, true, false, Masquerader::Flanneld),
            ("kubeadm", off, true, true, false, Masquerader::Flanneld),
            ("k3s", on, true, true, false, Masquerader::Flanneld),
            ("k3s", off, true, false, false, Masquerader::Flanneld),
            ("rke2", on, true, true, false, Masquerader::Flanneld),
            ("rke2", off, true, true, true, Masquerader::FlannelBridge),
            ("manual", on, true, true, false, Masquerader::Flanneld),
            ("manual", off, false, false, false, Masquerader::Flanneld),
        ] {
            let p = plan(&intent(distribution, cni));
            let case = format!("{distribution} {cni}");
            assert_eq!(node_masquerade(&p, &p.nodes[0]).by, by, "{case}");
            assert_eq!(masq(&p, "203.0.113.7/32").is_some(), v4, "{case}");
            assert_eq!(masq(&p, "2001:db8::7/128").is_some(), v6, "{case}");
            // Another node's address is outside the network: masqueraded as off-cluster.
            assert_eq!(masq(&p, "10.0.1.11/32").is_some(), v4, "{case}");
            // Another node's pods: only by the bridge plugin.
            let other = p.nodes[1].pod_cidrs[0];
            assert_eq!(masq(&p, &other.to_string()).is_some(), pods, "{case}");
            // The node's own pods and multicast never.
            let own = p.nodes[0].pod_cidrs[0];
            assert_eq!(masq(&p, &own.to_string()), None, "{case}");
            assert_eq!(masq(&p, "239.1.2.3/32"), None, "{case}");
            assert_eq!(masq(&p, "ff02::1/128"), None, "{case}");
        }
    }

    /// A destination network only partly inside what a rule leaves alone is neither
    /// masqueraded nor left alone: netc does not know, and says why.
    #[test]
    fn a_destination_partly_left_alone_is_uncertain() {
        let p = plan(&intent("kubeadm", "{plugin: flannel}"));
        let a = &p.nodes[0];
        let m = node_masquerade(&p, a);
        let pods = &a.pod_cidrs;
        for to in ["10.0.0.0/8", "224.0.0.0/3", "0.0.0.0/0", "fd00::/8"] {
            assert_eq!(masq(&p, to), None, "{to}");
            let source = m.may_masquerade(pods, &[net(to)]);
            assert!(source.is_some(), "{to}");
            let why = m.why_uncertain(source.unwrap_or(pods[0]), &[net(to)]);
            assert!(why.contains("only partly inside"), "{to}: {why}");
        }
        // Wholly outside: masqueraded; wholly inside: left alone; neither uncertain.
        for to in ["192.168.0.0/16", "10.244.0.0/17", "239.0.0.0/8"] {
            assert_eq!(m.may_masquerade(pods, &[net(to)]), None, "{to}");
        }
        assert!(masq(&p, "192.168.0.0/16").is_some());
        assert_eq!(masq(&p, "10.244.0.0/17"), None);
    }

    /// Calico: from a natOutgoing pool to outside every pool; Cilium: with native routing,
    /// not to cluster nodes; the bridge plugin only with a firewall.
    #[test]
    fn calico_cilium_and_bridge_rules() {
        let p = plan(&intent("kubeadm", "{plugin: calico}"));
        assert_eq!(masq(&p, "10.0.1.11/32"), Some(net("10.244.0.0/16")));
        assert_eq!(masq(&p, "10.244.9.9/32"), None);
        assert_eq!(
            node_masquerade(&p, &p.nodes[0]).by,
            Masquerader::CalicoNatOutgoing
        );
        let p = plan(&intent(
            "kubeadm",
            "{plugin: calico, calico: {natOutgoing: false}}",
        ));
        assert_eq!(masq(&p, "203.0.113.7/32"), None);

        let p = plan(&intent("kubeadm", "{plugin: cilium}"));
        let range = p.nodes[0].pod_cidrs[0];
        assert_eq!(masq(&p, "10.0.1.11/32"), Some(range));
        assert_eq!(masq(&p, "10.244.9.9/32"), None);
        let p = plan(&intent("kubeadm", "{plugin: cilium, encapsulation: none}"));
        assert_eq!(masq(&p, "10.0.1.11/32"), None);
        assert_eq!(masq(&p, "fd00::11/128"), None);
        assert!(masq(&p, "203.0.113.7/32").is_some());
        assert!(masq(&p, "2001:db8::7/128").is_some());

        let p = plan(&intent("kubeadm", "{plugin: bridge}"));
        assert_eq!(
            masq(&p, "203.0.113.7/32"),
            None,
            "no firewall, no masquerade"
        );
    }

    /// Canonical Kubernetes' built-in Cilium, by the profile's `Masquerade(Cilium)` fact:
    /// iptables masquerade with tunnel routing (another node's address is masqueraded, pods
    /// are not); no IPv6 on 1.30; an IPv6-only cluster routed natively on 1.32–1.34, its
    /// native routing CIDR the control-plane nodes' network (unknown inside their networks
    /// when they have several).
    #[test]
    fn canonical_cilium_masquerade_per_version() {
        let with = |v: &str| intent("canonical", "{plugin: cilium}").replace("v1.31.2", v);
        for v in ["v1.30.8", "v1.31.2", "v1.33.1", "v1.35.0", "v1.36.0"] {
            let p = plan(&with(v));
            let m = node_masquerade(&p, &p.nodes[0]);
            assert_eq!((m.by, m.uncertain.len()), (Masquerader::Cilium, 0), "{v}");
            let range = p.nodes[0].pod_cidrs[0];
            assert_eq!(masq(&p, "203.0.113.7/32"), Some(range), "{v}");
            assert_eq!(masq(&p, "10.0.1.11/32"), Some(range), "{v}");
            assert_eq!(masq(&p, "10.244.9.9/32"), None, "{v}");
            let v6 = masq(&p, "2001:db8::7/128").is_some();
            assert_eq!(v6, v != "v1.30.8", "{v}: IPv6 masquerade");
            assert_eq!(masq(&p, "fd00:10:244:ff::9/128"), None, "{v}");
        }

        let v6_only = |v: &str, cp_b: bool, b: &str| {
            let text = intent("canonical", "{plugin: cilium}")
                .replace("v1.31.2", v)
                .replace(
                    "[10.244.0.0/16, \"fd00:10:244::/56\"]",
                    "\"fd00:10:244::/56\"",
                )
                .replace(
                    "[10.96.0.0/12, \"fd00:10:96::/112\"]",
                    "\"fd00:10:96::/112\"",
                )
                .replace(
                    "address: 10.0.1.10/24, secondaryAddress: \"fd00::10/64\"",
                    "address: \"fd00::10/64\"",
                )
                .replace(
                    "role: worker, address: 10.0.1.11/24, secondaryAddress: \"fd00::11/64\"",
                    &format!(
                        "role: {}, address: \"{b}\"",
                        if cp_b { "control-plane" } else { "worker" }
                    ),
                );
            plan(&text)
        };
        // 1.32–1.34: native routing, `ipv6NativeRoutingCIDR` fd00::/64: the node's network
        // and every node's address are left alone, pods elsewhere in the pod CIDR are not.
        let p = v6_only("v1.33.1", false, "fd00::11/64");
        let m = node_masquerade(&p, &p.nodes[0]);
        assert!(m.uncertain.is_empty());
        let range = p.nodes[0].pod_cidrs[0];
        assert_eq!(masq(&p, "2001:db8::7/128"), Some(range));
        assert_eq!(masq(&p, "fd00::11/128"), None);
        assert_eq!(masq(&p, "fd00::99/128"), None);
        assert_eq!(masq(&p, "fd00:10:244:ff::9/128"), Some(range));
        // A worker elsewhere does not matter; control-plane nodes on two networks do.
        let p = v6_only("v1.33.1", false, "fd01::11/64");
        assert_eq!(masq(&p, "fd01::11/128"), None, "node ipset");
        // Two control-plane networks: outside both, masqueraded; to a node, not; elsewhere
        // inside either, unknown.
        let p = v6_only("v1.33.1", true, "fd01::11/64");
        let m = node_masquerade(&p, &p.nodes[0]);
        let pods = &p.nodes[0].pod_cidrs;
        let may = |to: &str| m.may_masquerade(pods, &[net(to)]);
        assert_eq!(masq(&p, "2001:db8::7/128"), Some(pods[0]));
        assert_eq!(masq(&p, "fd00:10:244:ff::9/128"), Some(pods[0]));
        assert_eq!(may("2001:db8::7/128"), None);
        for node in ["fd00::10/128", "fd01::11/128"] {
            assert_eq!((masq(&p, node), may(node)), (None, None), "{node}");
        }
        for host in ["fd00::99/128", "fd01::99/128"] {
            assert_eq!((masq(&p, host), may(host)), (None, Some(pods[0])), "{host}");
        }
        assert!(
            m.why_uncertain(pods[0], &[net("fd00::99/128")])
                .contains("fd00::/64, fd01::/64")
        );
        // 1.35+: IPv6-only is tunnelled again: pods keep their address, the node network not.
        let p = v6_only("v1.35.0", true, "fd01::11/64");
        let m = node_masquerade(&p, &p.nodes[0]);
        assert!(m.uncertain.is_empty());
        assert!(masq(&p, "fd00::99/128").is_some());
        assert_eq!(masq(&p, "fd00:10:244:ff::9/128"), None);
    }
}
