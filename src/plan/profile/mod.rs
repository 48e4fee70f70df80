//! Target profiles: every fact netc relies on about a consumer (a distribution, kube-proxy,
//! a CNI chart or manifest), with the versions it holds for and where upstream says so.
//!
//! One file per target holds its `FACTS`; `lookup` picks the fact for the cluster's
//! `kubernetesVersion` (RKE2 and k3s releases are that version with their own suffix,
//! `v1.31.4+rke2r1`; a k8s-snap track is a Kubernetes minor, so one version selects every
//! target's facts). `lower` resolves the facts a cluster needs once (`Profile`), and records
//! each fact asked for outside every range it is known for (`Profile::missing`): `check` reports
//! those (`validate/profile.rs`), never guesses. The README's fact table is generated from
//! `all()` (`netc profiles`; `tests/profiles.rs` keeps the README's copy equal).

mod calico;
mod canonical;
mod cilium;
mod flannel;
mod k3s;
mod kube_proxy;
mod kubeadm;
mod manual;
mod rke2;

use std::fmt;

use serde::Serialize;

use crate::intent::values::{KubeVersion, Protocol};
use crate::intent::{CniPlugin, Datastore, Distribution, Encapsulation, KubeProxyMode};

pub use calico::{
    BGP_PORT as CALICO_BGP_PORT, TYPHA_PORT as CALICO_TYPHA_PORT, VXLAN_PORT as CALICO_VXLAN_PORT,
    WIREGUARD_PORT as CALICO_WIREGUARD_PORT, WIREGUARD_PORT_V6 as CALICO_WIREGUARD_PORT_V6,
};
pub use cilium::{
    HEALTH_PORT as CILIUM_HEALTH_PORT, HUBBLE_PORT as CILIUM_HUBBLE_PORT,
    VXLAN_PORT as CILIUM_VXLAN_PORT, WIREGUARD_PORT as CILIUM_WIREGUARD_PORT,
};
pub use flannel::{
    VXLAN_PORT as FLANNEL_VXLAN_PORT, WIREGUARD_PORT as FLANNEL_WIREGUARD_PORT,
    WIREGUARD_PORT_V6 as FLANNEL_WIREGUARD_PORT_V6,
};

/// The newest Kubernetes minor the profiles are verified against (k8s-snap `main` builds
/// v1.36, canonical/k8s-snap `build-scripts/components/kubernetes/version`). A newer version
/// keeps the newest facts and `check` warns that they are unverified.
pub const NEWEST: Minor = Minor(1, 36);

/// A Kubernetes minor version (`1.31`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Minor(pub u32, pub u32);

impl Minor {
    pub fn of(v: KubeVersion) -> Self {
        Self(v.major, v.minor)
    }
}

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The versions a fact holds for: `from` to `to`, both included; `to: None` = still true in
/// the newest release upstream has made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Versions {
    pub from: Minor,
    pub to: Option<Minor>,
}

impl Versions {
    pub const fn from(major: u32, minor: u32) -> Self {
        Self {
            from: Minor(major, minor),
            to: None,
        }
    }

    pub const fn between(from: (u32, u32), to: (u32, u32)) -> Self {
        Self {
            from: Minor(from.0, from.1),
            to: Some(Minor(to.0, to.1)),
        }
    }

    pub fn contains(&self, v: Minor) -> bool {
        v >= self.from && self.to.is_none_or(|to| v <= to)
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            None => write!(f, "{}+", self.from),
            Some(to) if to == self.from => write!(f, "{to}"),
            Some(to) => write!(f, "{}–{to}", self.from),
        }
    }
}

/// Whose fact it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Kubeadm,
    Rke2,
    K3s,
    Canonical,
    Manual,
    /// kube-proxy itself, on every target that runs it.
    KubeProxy,
    Flannel,
    Calico,
    Cilium,
}

impl Target {
    pub fn of(d: Distribution) -> Self {
        match d {
            Distribution::Kubeadm => Self::Kubeadm,
            Distribution::Rke2 => Self::Rke2,
            Distribution::K3s => Self::K3s,
            Distribution::Canonical => Self::Canonical,
            Distribution::Manual => Self::Manual,
        }
    }

    /// The target's name in the facts table and in the profile's findings (a distribution's
    /// is its [`DistributionNames::profile`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::Kubeadm => distribution_names(Distribution::Kubeadm).profile,
            Self::Rke2 => distribution_names(Distribution::Rke2).profile,
            Self::K3s => distribution_names(Distribution::K3s).profile,
            Self::Canonical => distribution_names(Distribution::Canonical).profile,
            Self::Manual => distribution_names(Distribution::Manual).profile,
            Self::KubeProxy => "kube-proxy",
            Self::Flannel => "flannel",
            Self::Calico => "Calico (tigera-operator)",
            Self::Cilium => "Cilium chart",
        }
    }
}

/// What a fact is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Key {
    /// The kubeadm configuration API group/version netc writes.
    KubeadmApi,
    /// The CNI the distribution runs without being told another (`none` = it ships none).
    BuiltinCni,
    /// A CNI the distribution also runs as its own (Canonical's moonray flavor: Calico).
    BuiltinCniAlternative,
    /// The CNIs netc can set up on the distribution (`cni.plugin` values it accepts there).
    CniPlugins,
    /// The encapsulations the distribution lets a CNI take, where it narrows the plugin's own
    /// (k3s's flannel backends, Canonical's built-in network); for Canonical's Cilium, by the
    /// cluster's pod families (its routing: `Value::EncapsulationsIpv6Only`).
    Encapsulations(CniPlugin),
    /// The label CoreDNS pods carry (what a DNS allowance selects).
    DnsLabel,
    /// The API server's secure port, when nothing sets another.
    ApiServerPort,
    /// Whether netc can set the API server's port on this target (and with which setting).
    ApiServerPortSetting,
    /// k8sd's REST API port (Canonical), and on which nodes.
    K8sdPort,
    /// The datastores the control plane can run.
    Datastores,
    /// Whether kube-proxy runs (and so reads kube-proxy settings).
    KubeProxyRuns,
    /// kube-proxy's `healthz` listener address.
    KubeProxyHealthz,
    /// What kube-proxy needs for `mode: nftables`.
    NftablesMode,
    /// A CNI's UDP/TCP port (VXLAN, health, BGP...).
    Port(&'static str),
    /// How the distribution's built-in CNI masquerades pods leaving their node (Canonical's
    /// Cilium: the values k8sd applies, the chart's defaults for the rest); its routing is the
    /// `Encapsulations` fact.
    Masquerade(CniPlugin),
}

impl Key {
    pub fn name(self) -> String {
        match self {
            Self::KubeadmApi => "kubeadm config API".into(),
            Self::BuiltinCni => "built-in CNI".into(),
            Self::BuiltinCniAlternative => "built-in CNI (other flavor)".into(),
            Self::CniPlugins => "CNI plugins offered".into(),
            Self::Encapsulations(p) => format!("{} encapsulations", plugin_name(p)),
            Self::DnsLabel => "CoreDNS pod label".into(),
            Self::ApiServerPort => "API server port".into(),
            Self::ApiServerPortSetting => "API server port setting".into(),
            Self::K8sdPort => "k8sd port (all nodes)".into(),
            Self::Datastores => "datastores".into(),
            Self::KubeProxyRuns => "kube-proxy runs".into(),
            Self::KubeProxyHealthz => "kube-proxy healthz bind".into(),
            Self::NftablesMode => "mode nftables".into(),
            Self::Port(what) => format!("{what} port"),
            Self::Masquerade(p) => format!("{} masquerade", plugin_name(p)),
        }
    }
}

/// A fact's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Value {
    Text(&'static str),
    Label(&'static str, &'static str),
    Port(Protocol, u16),
    Plugin(CniPlugin),
    Plugins(&'static [CniPlugin]),
    Encapsulations(&'static [Encapsulation]),
    /// Encapsulations that depend on the pod families: `others` for a cluster with IPv4 pods,
    /// `ipv6_only` for an IPv6-only one (Canonical's Cilium routes those natively on 1.32–1.34).
    EncapsulationsIpv6Only {
        others: &'static [Encapsulation],
        ipv6_only: &'static [Encapsulation],
    },
    Flag(bool),
    Datastores(&'static [Datastore]),
    /// A feature gate kube-proxy needs on (`NFTablesProxyMode`).
    Gate(&'static str),
    /// Nothing needed / nothing offered.
    Nothing,
    /// Unavailable: the consumer refuses it.
    Refused,
    /// How Canonical's built-in Cilium masquerades pods.
    CiliumMasquerade(CiliumMasquerade),
}

/// How a built-in Cilium masquerades its pods: always Cilium's iptables masquerade (no
/// `bpf.masquerade` in the values, `enable-bpf-masquerade` unrendered: the agent's default
/// false; `enableIPv4Masquerade`/`enableIPv6Masquerade` the chart's default true). Its routing
/// (tunnel, or native with `ipv6NativeRoutingCIDR` the network of the address of the node k8sd
/// applies the values from) is the `Encapsulations(Cilium)` fact: `Profile::native_routing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CiliumMasquerade {
    /// Whether Cilium runs IPv6 at all (`ipv6.enabled`); IPv4 always.
    pub ipv6: bool,
}

impl Value {
    /// An `Encapsulations` fact's encapsulations for a cluster whose pods are IPv6-only or not.
    fn encapsulations(self, ipv6_only: bool) -> Option<&'static [Encapsulation]> {
        match self {
            Self::Encapsulations(es) => Some(es),
            Self::EncapsulationsIpv6Only {
                others,
                ipv6_only: v6,
            } => Some(if ipv6_only { v6 } else { others }),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "`{t}`"),
            Self::Label(k, v) => write!(f, "`{k}: {v}`"),
            Self::Port(p, n) => write!(f, "{n}/{}", p.as_str()),
            Self::Plugin(p) => write!(f, "{}", plugin_name(*p)),
            Self::Plugins(ps) => {
                let names: Vec<&str> = ps.iter().map(|p| plugin_name(*p)).collect();
                write!(f, "{}", names.join(", "))
            }
            Self::Encapsulations(es) => write!(f, "{}", encapsulation_names(es)),
            Self::EncapsulationsIpv6Only { others, ipv6_only } => write!(
                f,
                "{}; IPv6-only pods: {}",
                encapsulation_names(others),
                encapsulation_names(ipv6_only)
            ),
            Self::Flag(b) => write!(f, "{}", if *b { "yes" } else { "no" }),
            Self::Datastores(ds) => {
                let names: Vec<&str> = ds.iter().map(|d| datastore_name(*d)).collect();
                write!(f, "{}", names.join(", "))
            }
            Self::Gate(g) => write!(f, "feature gate `{g}=true`"),
            Self::Nothing => write!(f, "nothing"),
            Self::Refused => write!(f, "refused"),
            Self::CiliumMasquerade(m) => {
                let families = if m.ipv6 { "IPv4 and IPv6" } else { "IPv4 only" };
                write!(f, "iptables; {families} (routing: cilium encapsulations)")
            }
        }
    }
}

/// How netc names a distribution, by where the name stands. The spellings differ on purpose
/// (messages quote `rke2` the way the intent spells it, and say "RKE2 runs etcd"), so each
/// context has its field, and every distribution its one row in [`distribution_names`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistributionNames {
    /// The intent's keyword, as written in `cluster.distribution` (serde's lowercase
    /// spelling), where a message quotes the setting beside other keywords ("rke2 does not
    /// offer the cilium CNI"; "with canonical, use one of: …").
    pub keyword: &'static str,
    /// The product, as the subject of a sentence ("RKE2 runs etcd", "a manual control plane
    /// runs etcd").
    pub product: &'static str,
    /// What would take a node's settings: the product, and on a manual control plane the
    /// kubelet whose flags netc writes ("a manual control plane (kubelet) has no setting for a
    /// node's external address").
    pub node_settings: &'static str,
    /// Whose versions the profile's facts are: the facts table's heading and the profile's
    /// findings (Canonical Kubernetes' versions are k8s-snap's tracks; `manual` is no product).
    pub profile: &'static str,
}

/// Every name of `d`, one row per distribution.
pub fn distribution_names(d: Distribution) -> DistributionNames {
    let row = |keyword, product, node_settings, profile| DistributionNames {
        keyword,
        product,
        node_settings,
        profile,
    };
    match d {
        Distribution::Kubeadm => row("kubeadm", "kubeadm", "kubeadm", "kubeadm"),
        Distribution::Rke2 => row("rke2", "RKE2", "RKE2", "RKE2"),
        Distribution::K3s => row("k3s", "k3s", "k3s", "k3s"),
        Distribution::Canonical => row(
            "canonical",
            "Canonical Kubernetes",
            "Canonical Kubernetes",
            "Canonical Kubernetes (k8s-snap)",
        ),
        Distribution::Manual => row(
            "manual",
            "a manual control plane",
            "a manual control plane (kubelet)",
            "manual",
        ),
    }
}

pub fn plugin_name(p: CniPlugin) -> &'static str {
    match p {
        CniPlugin::Flannel => "flannel",
        CniPlugin::Calico => "calico",
        CniPlugin::Canal => "canal",
        CniPlugin::Cilium => "cilium",
        CniPlugin::Bridge => "bridge",
        CniPlugin::None => "none",
    }
}

pub fn encapsulation_name(e: Encapsulation) -> &'static str {
    match e {
        Encapsulation::Vxlan => "vxlan",
        Encapsulation::VxlanCrossSubnet => "vxlan-cross-subnet",
        Encapsulation::Ipip => "ipip",
        Encapsulation::Bgp => "bgp",
        Encapsulation::HostGw => "host-gw",
        Encapsulation::Wireguard => "wireguard",
        Encapsulation::None => "none",
    }
}

fn encapsulation_names(es: &[Encapsulation]) -> String {
    let names: Vec<&str> = es.iter().map(|e| encapsulation_name(*e)).collect();
    names.join(", ")
}

pub fn datastore_name(d: Datastore) -> &'static str {
    match d {
        Datastore::Etcd => "etcd",
        Datastore::K8sDqlite => "k8s-dqlite",
    }
}

/// One consumer fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub target: Target,
    pub key: Key,
    pub versions: Versions,
    pub value: Value,
    /// Upstream repository, path, and the release or commit that changed it.
    pub source: &'static str,
}

/// Every fact, target by target.
pub fn all() -> impl Iterator<Item = &'static Fact> {
    [
        kubeadm::FACTS,
        rke2::FACTS,
        k3s::FACTS,
        canonical::FACTS,
        manual::FACTS,
        kube_proxy::FACTS,
        flannel::FACTS,
        calico::FACTS,
        cilium::FACTS,
    ]
    .into_iter()
    .flatten()
}

/// The facts known for `(target, key)`, oldest range first.
pub fn known(target: Target, key: Key) -> impl Iterator<Item = &'static Fact> {
    all().filter(move |f| f.target == target && f.key == key)
}

/// The fact for `(target, key)` at `version`; `None` when no range holds it.
pub fn lookup(target: Target, key: Key, version: Minor) -> Option<&'static Fact> {
    known(target, key).find(|f| f.versions.contains(version))
}

/// The ranges `(target, key)` is known for, as text (`1.22–1.30, 1.31+`).
pub fn ranges(target: Target, key: Key) -> String {
    let r: Vec<String> = known(target, key).map(|f| f.versions.to_string()).collect();
    r.join(", ")
}

/// A fact asked for at a version no range of it holds for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Missing {
    pub target: Target,
    pub key: Key,
    pub version: Minor,
}

/// The facts one cluster needs, resolved for its target and version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub target: Target,
    /// `None` when `kubernetesVersion` does not parse (validation reports it).
    pub version: Option<Minor>,
    /// CoreDNS's pod label (`k8s-app: kube-dns`; `k8s-app: coredns` on Canonical).
    pub dns_label: (&'static str, &'static str),
    /// The kubeadm API (`kubeadm.k8s.io/v1beta4`), for kubeadm.
    pub kubeadm_api: &'static str,
    /// Canonical's k8sd port, opened on every node.
    pub k8sd_port: Option<u16>,
    /// Whether kube-proxy runs at all (Canonical 1.36 does not run it).
    pub kube_proxy_runs: bool,
    /// Whether kube-proxy's healthz (10256/tcp) listens beyond loopback (the profile's
    /// `kube-proxy healthz bind`; false where kube-proxy does not run).
    pub kube_proxy_healthz_open: bool,
    /// The feature gate kube-proxy needs for its mode (`NFTablesProxyMode` on 1.29–1.30).
    pub kube_proxy_gate: Option<&'static str>,
    /// The datastores the control plane can run.
    pub datastores: &'static [Datastore],
    /// The CNIs the distribution runs as its own, at this version (Canonical).
    pub builtin_cni: Vec<CniPlugin>,
    /// The CNIs netc can set up on the distribution at this version (`CniPlugins`; on
    /// Canonical every CNI its built-in network facts name, whichever version: the versions
    /// its Calico holds for are `validate/profile.rs`'s diagnostic).
    pub cni_plugins: Vec<CniPlugin>,
    /// The encapsulations the distribution lets `cni.plugin` take at this version and for the
    /// cluster's pod families, where it narrows the plugin's own (`Encapsulations` facts);
    /// `None` = the plugin's own decide.
    pub encapsulations: Option<&'static [Encapsulation]>,
    /// How Canonical's built-in Cilium masquerades pods at this version (`None` on other
    /// targets and CNIs; `plan::masquerade` reads it).
    pub cilium_masquerade: Option<CiliumMasquerade>,
    /// Facts this cluster asked for outside every known range.
    pub missing: Vec<Missing>,
}

impl Profile {
    /// Resolves the facts a cluster of `dist` at `version` with `kube_proxy_mode` and
    /// `plugin` (and IPv6-only pods, `ipv6_only`) needs. A
    /// fact without a range for the version is recorded in `missing`, and the newest known
    /// value is used meanwhile (so `lower` never fails; `check` reports it).
    pub fn resolve(
        dist: Distribution,
        version: Option<KubeVersion>,
        kube_proxy_mode: KubeProxyMode,
        plugin: CniPlugin,
        ipv6_only: bool,
    ) -> Self {
        let target = Target::of(dist);
        let version = version.map(Minor::of);
        let mut missing = Vec::new();
        let mut ask = |t: Target, key: Key| -> Option<&'static Fact> {
            let Some(v) = version else {
                return known(t, key).last();
            };
            let found = lookup(t, key, v);
            if found.is_none() && known(t, key).next().is_some() {
                missing.push(Missing {
                    target: t,
                    key,
                    version: v,
                });
                // Above the newest range: keep the newest; below: the oldest.
                return known(t, key).last();
            }
            found
        };
        let dns_label = match ask(target, Key::DnsLabel).map(|f| f.value) {
            Some(Value::Label(k, v)) => (k, v),
            _ => ("k8s-app", "kube-dns"),
        };
        let kubeadm_api = match target {
            Target::Kubeadm => match ask(target, Key::KubeadmApi).map(|f| f.value) {
                Some(Value::Text(t)) => t,
                _ => kubeadm::API_V1BETA4,
            },
            _ => kubeadm::API_V1BETA4,
        };
        let k8sd_port = match ask(target, Key::K8sdPort).map(|f| f.value) {
            Some(Value::Port(_, p)) => Some(p),
            _ => None,
        };
        let kube_proxy_runs = !matches!(
            ask(target, Key::KubeProxyRuns).map(|f| f.value),
            Some(Value::Flag(false))
        );
        // Asked only where kube-proxy runs (Canonical 1.36 has no range for it).
        let kube_proxy_healthz_open = kube_proxy_runs
            && matches!(
                ask(target, Key::KubeProxyHealthz).map(|f| f.value),
                Some(Value::Text(bind)) if !bind.starts_with("127.")
            );
        let kube_proxy_gate = if kube_proxy_mode == KubeProxyMode::Nftables && kube_proxy_runs {
            match ask(Target::KubeProxy, Key::NftablesMode).map(|f| f.value) {
                Some(Value::Gate(g)) => Some(g),
                _ => None,
            }
        } else {
            None
        };
        let datastores = match ask(target, Key::Datastores).map(|f| f.value) {
            Some(Value::Datastores(d)) => d,
            _ => &[Datastore::Etcd],
        };
        let mut builtin_cni = Vec::new();
        if target == Target::Canonical {
            if let Some(Value::Plugin(p)) = ask(target, Key::BuiltinCni).map(|f| f.value) {
                builtin_cni.push(p);
            }
            // The alternative is optional: only where a range holds it, never "missing".
            if let Some(v) = version
                && let Some(f) = lookup(target, Key::BuiltinCniAlternative, v)
                && let Value::Plugin(p) = f.value
            {
                builtin_cni.push(p);
            }
        }
        let cni_plugins = if target == Target::Canonical {
            canonical_cni_plugins()
        } else {
            match ask(target, Key::CniPlugins).map(|f| f.value) {
                Some(Value::Plugins(ps)) => ps.to_vec(),
                _ => Vec::new(),
            }
        };
        // Canonical's Calico outside the versions that ship it is `validate/profile.rs`'s
        // diagnostic: its encapsulations are not asked for there.
        let encapsulations = if target == Target::Canonical && !builtin_cni.contains(&plugin) {
            None
        } else {
            ask(target, Key::Encapsulations(plugin)).and_then(|f| f.value.encapsulations(ipv6_only))
        };
        // Asked only for the Cilium netc does not install: Canonical's built-in one.
        let cilium_masquerade = if target == Target::Canonical && plugin == CniPlugin::Cilium {
            match ask(target, Key::Masquerade(plugin)).map(|f| f.value) {
                Some(Value::CiliumMasquerade(m)) => Some(m),
                _ => None,
            }
        } else {
            None
        };
        Self {
            target,
            version,
            dns_label,
            kubeadm_api,
            k8sd_port,
            kube_proxy_runs,
            kube_proxy_healthz_open,
            kube_proxy_gate,
            datastores,
            builtin_cni,
            cni_plugins,
            encapsulations,
            cilium_masquerade,
            missing,
        }
    }
}

impl Profile {
    /// Whether the distribution's built-in CNI routes this cluster's pods natively (no
    /// tunnel): its `Encapsulations` fact offers `none` only (Canonical's Cilium for IPv6-only
    /// pods on 1.32–1.34). `plan::masquerade` reads it.
    pub fn native_routing(&self) -> bool {
        self.encapsulations == Some(&[Encapsulation::None][..])
    }
}

/// The CNIs `cni.plugin` may name on Canonical Kubernetes: every CNI its built-in network
/// facts name, whichever version (the versions its Calico holds for are
/// `validate/profile.rs`'s diagnostic).
fn canonical_cni_plugins() -> Vec<CniPlugin> {
    let mut all: Vec<CniPlugin> = Vec::new();
    for key in [Key::BuiltinCni, Key::BuiltinCniAlternative] {
        for f in known(Target::Canonical, key) {
            if let Value::Plugin(p) = f.value
                && !all.contains(&p)
            {
                all.push(p);
            }
        }
    }
    all
}

/// The README's fact table (Markdown), one row per fact.
pub fn table() -> String {
    let mut out =
        String::from("| target | fact | versions | value | source |\n|---|---|---|---|---|\n");
    let cell = |t: String| t.replace('|', "\\|");
    for f in all() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(f.target.name().to_owned()),
            cell(f.key.name()),
            f.versions,
            cell(f.value.to_string()),
            cell(f.source.to_owned())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distribution's keyword is the intent's own spelling (serde's), and its profile name
    /// is its target's: the names are one row, read by the messages, never retyped.
    #[test]
    fn a_distributions_keyword_is_the_intents_spelling() {
        use Distribution::*;
        for d in [Kubeadm, Rke2, K3s, Canonical, Manual] {
            let names = distribution_names(d);
            assert_eq!(
                serde_json::to_value(d).expect("serializes"),
                serde_json::Value::from(names.keyword),
                "{d:?}"
            );
            assert_eq!(Target::of(d).name(), names.profile, "{d:?}");
        }
    }

    #[test]
    fn ranges_of_one_key_never_overlap() {
        for a in all() {
            for b in all() {
                if std::ptr::eq(a, b) || a.target != b.target || a.key != b.key {
                    continue;
                }
                let overlap =
                    a.versions.contains(b.versions.from) || b.versions.contains(a.versions.from);
                assert!(
                    !overlap,
                    "{:?} {:?}: {} and {}",
                    a.target, a.key, a.versions, b.versions
                );
            }
        }
    }

    #[test]
    fn every_fact_names_its_source() {
        for f in all() {
            assert!(f.source.contains('/') && f.source.contains('`'), "{f:?}");
        }
    }
}
