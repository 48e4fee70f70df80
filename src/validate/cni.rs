//! The CNI layer: `netc::cni::unsupported`, `netc::cni::policy-not-enforced`,
//! `netc::cni::host-gw-needs-l2`, `netc::cni::setting-not-applied`, `netc::cni::path-invalid`.
//!
//! # What each distribution offers (what netc emits for it)
//!
//! The plugins are the profiles' `CniPlugins` facts (`plan/profile/`, with their versions and
//! sources, in the README's fact table); this table explains them.
//!
//! | distribution | plugins | why |
//! |---|---|---|
//! | kubeadm   | flannel, calico, canal, cilium, bridge, none | kubeadm installs no CNI; netc writes any of them |
//! | rke2      | canal (its default), calico, cilium, flannel (from 1.26), none | RKE2's `cni` flag takes exactly these; no bridge |
//! | k3s       | flannel (built in), calico, canal, cilium, none | others run with `flannel-backend: none`; a bare bridge conflist is not offered |
//! | canonical | cilium, calico | the snap's own network feature (Cilium; Calico only in the moonray flavor: `plan/profile/canonical.rs`, `validate/profile.rs`); a second CNI (or none) conflicts with it |
//! | manual    | flannel, bridge, none | "the hard way": the bridge plugin with static routes, or flanneld on the host (systemd); netc writes no operator or chart for the others |
//!
//! # Which encapsulations each plugin can be told to use
//!
//! | plugin | encapsulations | notes |
//! |---|---|---|
//! | flannel | vxlan, host-gw, wireguard | flannel backends (k3s: `wireguard-native`) |
//! | canal   | vxlan, host-gw, wireguard | Canal's `flannel.backend` |
//! | calico  | ipip, vxlan, vxlan-cross-subnet, bgp, none, wireguard | IP pool encapsulation; IPIP carries IPv4 only; wireguard = routed pools + Felix's `wireguardEnabled` |
//! | cilium  | vxlan, wireguard, none | `none` = native routing (Geneve is not in the intent); wireguard = VXLAN + WireGuard encryption |
//! | bridge  | none, host-gw | netc programs static routes either way |
//! | none    | none | the CNI you install decides |
//!
//! A distribution narrows this with its profile's `Encapsulations` facts (versioned, sourced):
//! Canonical Kubernetes' Cilium runs VXLAN, except IPv6-only pods on 1.32–1.34, which it
//! routes natively (`none`; the profile resolves by the pod families, and an intent naming no
//! encapsulation gets the distribution's: `plan::cni::default_encapsulation`); its Calico takes the pool encapsulations of
//! its `calico/encapsulation-v4` annotation (ipip, vxlan, vxlan-cross-subnet, none/bgp) and has
//! no WireGuard setting; k3s's flannel takes `wireguard-native` only from 1.24.
//!
//! Values a target cannot take (the Plan's `CniPlan::not_applied`, decided next to the
//! settings in `plan/cni/`) are `netc::cni::setting-not-applied`, reported in `not_applied.rs`.
//!
//! NetworkPolicy is enforced by calico, canal and cilium; by flannel only on k3s, which embeds a
//! network-policy controller next to flannel; never by a bare bridge. With `none` the CNI you
//! install decides, so netc does not object.

use ipnet::IpNet;

use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{CniPlugin, Distribution, Encapsulation, NetworkIntent};
use crate::plan::Plan;
use crate::plan::profile::{self, Key, Target, distribution_names, plugin_name};

pub(super) fn encapsulation_name(e: Encapsulation) -> &'static str {
    crate::plan::profile::encapsulation_name(e)
}

/// The encapsulations a plugin can be told to use (the distribution's profile narrows them:
/// `Profile::encapsulations`).
fn encapsulations_of(p: CniPlugin) -> &'static [Encapsulation] {
    use Encapsulation::*;
    match p {
        CniPlugin::Flannel | CniPlugin::Canal => &[Vxlan, HostGw, Wireguard],
        CniPlugin::Calico => &[Ipip, Vxlan, VxlanCrossSubnet, Bgp, None, Wireguard],
        CniPlugin::Cilium => &[Vxlan, Wireguard, None],
        CniPlugin::Bridge => &[None, HostGw],
        CniPlugin::None => &[None],
    }
}

fn list<T: Copy>(items: &[T], name: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|&i| name(i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unsupported(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let dist = &intent.cluster.distribution;
    let plugin = &intent.cni.plugin;
    let (d, p) = (dist.value, plugin.value);
    // The distribution's profile says which CNIs it offers at this version (`CniPlugins`).
    let offered = &plan.profile.cni_plugins;
    if !offered.contains(&p) {
        let message = match d {
            // The profile's built-in network: Cilium, and Calico in the moonray flavor's range.
            Distribution::Canonical => format!(
                "{} ships its own network (Cilium; Calico only in its moonray flavor, k8s-snap {}); cni.plugin {} would be a second CNI",
                distribution_names(d).product,
                profile::ranges(Target::Canonical, Key::BuiltinCniAlternative),
                plugin_name(p)
            ),
            Distribution::Kubeadm
            | Distribution::Rke2
            | Distribution::K3s
            | Distribution::Manual => {
                format!(
                    "{} does not offer the {} CNI",
                    distribution_names(d).keyword,
                    plugin_name(p)
                )
            }
        };
        out.push(
            Diag::error(code::CNI_UNSUPPORTED, message)
                .label(
                    plugin.span,
                    format!("not offered by {}", distribution_names(d).keyword),
                )
                .label(dist.span, "distribution")
                .help(format!(
                    "with {}, use one of: {}",
                    distribution_names(d).keyword,
                    list(offered, plugin_name)
                )),
        );
        return; // the encapsulation question has no answer for a plugin that is not there
    }
    let encap = plan.cni.encapsulation;
    let allowed = plan
        .profile
        .encapsulations
        .unwrap_or_else(|| encapsulations_of(p));
    if !allowed.contains(&encap) {
        let span = intent
            .cni
            .encapsulation
            .as_ref()
            .map_or(plugin.span, |e| e.span);
        // The distribution narrowed the plugin's encapsulations: say which one, at which version.
        let on = match (plan.profile.encapsulations, plan.profile.version) {
            (Some(_), Some(v)) => format!(" on {} {v}", plan.profile.target.name()),
            (Some(_), None) => format!(" on {}", plan.profile.target.name()),
            _ => String::new(),
        };
        out.push(
            Diag::error(
                code::CNI_UNSUPPORTED,
                format!(
                    "{} cannot use {} encapsulation{on}",
                    plugin_name(p),
                    encapsulation_name(encap)
                ),
            )
            .label(span, "unsupported encapsulation")
            .label(plugin.span, plugin_name(p))
            .help(format!(
                "{}{on} takes: {}",
                plugin_name(p),
                list(allowed, encapsulation_name)
            )),
        );
    }
    if p == CniPlugin::Calico
        && encap == Encapsulation::Ipip
        && crate::plan::ipv6_only(&plan.pod_cidrs)
    {
        let span = intent
            .cni
            .encapsulation
            .as_ref()
            .map_or(plugin.span, |e| e.span);
        out.push(
            Diag::error(
                code::CNI_UNSUPPORTED,
                "calico's IPIP carries IPv4 only, and podCIDR is IPv6-only",
            )
            .label(span, "ipip")
            .help("use vxlan (or bgp) for an IPv6 pod network"),
        );
    }
    block_size(intent, plan, out);
}

/// Calico's IPAM block size: IPv4 20-32 (tigera/operator), and not wider than the pool.
fn block_size(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    if plan.cni.plugin != CniPlugin::Calico {
        return;
    }
    let Some(b) = intent
        .cni
        .calico
        .as_ref()
        .and_then(|c| c.block_size.as_ref())
    else {
        return;
    };
    let pool = plan.pod_cidrs.iter().find(|n| matches!(n, IpNet::V4(_)));
    let problem = if !(20..=32).contains(&b.value) {
        Some(format!("calico blockSize {} is outside 20-32", b.value))
    } else {
        pool.filter(|p| b.value < p.prefix_len())
            .map(|p| format!("calico blockSize /{} is larger than podCIDR {p}", b.value))
    };
    if let Some(message) = problem {
        out.push(
            Diag::error(code::CNI_UNSUPPORTED, message)
                .label(b.span, "blockSize")
                .help(
                    "use a block size between 20 and 32 that fits in the IPv4 podCIDR (default 26)",
                ),
        );
    }
}

fn policy_not_enforced(intent: &NetworkIntent, out: &mut Vec<Diag>) {
    let Some(first) = intent.policies.first() else {
        return;
    };
    let plugin = &intent.cni.plugin;
    let d = intent.cluster.distribution.value;
    if crate::plan::enforces_network_policies(d, plugin.value) {
        return;
    }
    out.push(
        Diag::error(
            code::CNI_POLICY_NOT_ENFORCED,
            format!(
                "NetworkPolicies are declared for {}, but {} on {} does not enforce them",
                super::count(intent.policies.len(), "namespace"),
                plugin_name(plugin.value),
                distribution_names(d).keyword
            ),
        )
        .label(plugin.span, "enforces no NetworkPolicy")
        .label(first.namespace.span, "policies declared here")
        .help("use canal (flannel with Calico's policy), calico or cilium; or remove the policies"),
    );
}

/// Static routes to other nodes' pod subnets go via their addresses, which must be on-link.
fn host_gw_needs_l2(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let routed =
        plan.cni.encapsulation == Encapsulation::HostGw || plan.cni.plugin == CniPlugin::Bridge;
    if !routed {
        return;
    }
    let mut first: Option<(IpNet, usize)> = None;
    let mut others = 0usize;
    let mut first_other: Option<usize> = None;
    for (i, node) in intent.nodes.iter().enumerate() {
        let Some(addr) = values::parse_interface_address(&node.address.value) else {
            continue;
        };
        let net = addr.trunc();
        match first {
            None => first = Some((net, i)),
            Some((n, _)) if n != net => {
                others += 1;
                first_other.get_or_insert(i);
            }
            Some(_) => {}
        }
    }
    let (Some((net, a)), Some(b)) = (first, first_other) else {
        return;
    };
    let (Some(na), Some(nb)) = (intent.nodes.get(a), intent.nodes.get(b)) else {
        return;
    };
    let how = if plan.cni.plugin == CniPlugin::Bridge {
        "the bridge plugin's static routes".to_owned()
    } else {
        format!("{}'s host-gw", plugin_name(plan.cni.plugin))
    };
    let other_net = values::parse_interface_address(&nb.address.value).map_or(net, |n| n.trunc());
    let mut d = Diag::error(
        code::CNI_HOST_GW_NEEDS_L2,
        format!(
            "{how} need every node on one L2 network, but {} is on {net} and {} on {other_net}{}",
            na.name.value,
            nb.name.value,
            if others > 1 {
                format!(" ({} in all off {net})", super::count(others, "node"))
            } else {
                String::new()
            }
        ),
    )
    .label(nb.address.span, format!("{other_net}"))
    .label(na.address.span, format!("{net}"));
    if let Some(e) = &intent.cni.encapsulation {
        d = d.label(e.span, "routes without encapsulation");
    }
    out.push(d.help(
        "put the nodes on one subnet, or use an encapsulation that crosses subnets (vxlan; calico: vxlan-cross-subnet or bgp)",
    ));
}

/// `cni.flannel.paths`: absolute, single-line paths (systemd and flanneld take them as given;
/// a relative one would resolve against whatever directory the service starts in).
fn flannel_paths(intent: &NetworkIntent, out: &mut Vec<Diag>) {
    let Some(paths) = intent.cni.flannel.as_ref().and_then(|f| f.paths.as_ref()) else {
        return;
    };
    let keys = [
        ("binary", &paths.binary),
        ("netConf", &paths.net_conf),
        ("kubeconfig", &paths.kubeconfig),
    ];
    for (key, path) in keys {
        let Some(path) = path else { continue };
        let p = path.value.as_str();
        let problem = if !p.starts_with('/') {
            "is not an absolute path"
        } else if p.chars().any(char::is_control) {
            "has a control character"
        } else if p.ends_with('/') {
            "names a directory, not a file"
        } else if p.split('/').any(|c| c == "..") {
            "climbs out with `..`"
        } else if p[1..].split('/').any(|c| c.is_empty() || c == ".") {
            "is not normalised (`//` or `/./`): write it as the plain path"
        } else if !p[1..].contains('/') {
            "sits directly in `/`: netc's agent would mount the whole root file system"
        } else if let Some(owned) = OWNED_DIRS.iter().find(|d| {
            p.strip_prefix(**d)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }) {
            out.push(
                Diag::error(
                    code::CNI_PATH_INVALID,
                    format!("cni.flannel.paths.{key} {p:?} is under {owned}, which netc owns"),
                )
                .label(path.span, "under a directory netc owns")
                .help("netc keeps its state there or mounts its intent there (fleet): choose another directory"),
            );
            continue;
        } else {
            continue;
        };
        out.push(
            Diag::error(
                code::CNI_PATH_INVALID,
                format!("cni.flannel.paths.{key} {p:?} {problem}"),
            )
            .label(path.span, "not an absolute file path")
            .help(
                "give the file's absolute path on the node, e.g. /etc/kube-flannel/net-conf.json",
            ),
        );
    }
}

/// Directories netc or its DaemonSet owns: its state, the intent's ConfigMap mount, the files
/// and kernel interfaces the agent's pod mounts. A flanneld file there would be shadowed by a
/// mount or mixed with netc's own records.
const OWNED_DIRS: &[&str] = &[
    crate::plan::layout::STATE_DIR,
    crate::plan::layout::INTENT_DIR,
    crate::plan::layout::XTABLES_LOCK,
    crate::plan::layout::SYSCTL_CONTAINER_DIR,
    "/proc",
    "/sys",
];

/// The files host flanneld reads are distinct (the kubeconfig's `ca.crt` and `token` beside it
/// included): one path for two of them makes one overwrite the other when applied.
fn flannel_paths_distinct(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let (Some(host), Some(paths)) = (
        plan.cni.flannel().and_then(|f| f.host.as_ref()),
        intent.cni.flannel.as_ref().and_then(|f| f.paths.as_ref()),
    ) else {
        return;
    };
    let files = [
        ("binary", &host.binary),
        ("netConf", &host.net_conf),
        ("kubeconfig", &host.kubeconfig),
        ("the kubeconfig's ca.crt", &host.ca_cert),
        ("the kubeconfig's token", &host.token),
    ];
    let span_of = |key: &str| match key {
        "binary" => paths.binary.as_ref(),
        "netConf" => paths.net_conf.as_ref(),
        _ => paths.kubeconfig.as_ref(),
    };
    for (i, (a, pa)) in files.iter().enumerate() {
        for (b, pb) in &files[i + 1..] {
            if pa != pb {
                continue;
            }
            let Some(t) = span_of(b).or_else(|| span_of(a)) else {
                continue;
            };
            out.push(
                Diag::error(
                    code::CNI_PATH_INVALID,
                    format!("cni.flannel.paths: {a} and {b} are both {pa:?}"),
                )
                .label(t.span, "the same file twice")
                .help("give each of flanneld's files its own path"),
            );
        }
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    unsupported(intent, plan, out);
    flannel_paths(intent, out);
    flannel_paths_distinct(intent, plan, out);
    policy_not_enforced(intent, out);
    host_gw_needs_l2(intent, plan, out);
}
