//! `flannel/`: flannel's network configuration for kubeadm and manual clusters.
//!
//! - `net-conf.json`: what flanneld reads (`/etc/kube-flannel/net-conf.json`);
//! - kubeadm: `kube-flannel-cfg.yaml`, the `kube-flannel-cfg` ConfigMap of the kube-flannel
//!   manifest, holding `cni-conf.json` and `net-conf.json` (replace the manifest's own); the
//!   DaemonSet mounts it, so nothing of flannel's is installed on the host;
//! - manual: flanneld runs on the host (`flanneld.rs`: its unit, RBAC and kubeconfig), and
//!   every node installs `net-conf.json` where the unit's `--net-config-path` points.
//!
//! Canal's net-conf is part of the `canal` target's `canal-config` ConfigMap. k3s and RKE2
//! configure their embedded flannel from their own files (k3s: `k3s/flannel-net-conf.json`
//! from this module's [`net_conf`], when k3s' defaults do not fit).

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Serialize;

use super::cni::{flannel_conflist, flannel_conflist_applies};
use super::config_map::ConfigMap;
use super::{ArtifactSink, Context, EmitError, Install, flanneld, json, yaml};
use crate::intent::KubeProxyMode;
use crate::plan::{FlannelBackend, FlannelSettings, Plan, flannel_wireguard_keepalive};

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    let Some(flannel) = plan
        .cni
        .flannel()
        .filter(|_| flannel_conflist_applies(plan))
    else {
        return Ok(());
    };
    let conf = net_conf(plan, flannel);
    let path = "flannel/net-conf.json";
    let bytes = json(path, &conf)?;
    if let Some(host) = &flannel.host {
        // Host flanneld reads it on every node; the DaemonSet (kubeadm) mounts the ConfigMap.
        sink.read_by(path, crate::emit::Consumer::netc_apply("host flanneld"));
        sink.put_installed(
            path.to_owned(),
            bytes,
            Install::everywhere_file(host.net_conf.clone()),
        )?;
        return flanneld::emit(ctx, flannel, host, sink);
    }
    sink.read_by(
        path,
        crate::emit::Consumer::new(crate::emit::Stage::Network, "people", "none")
            .noted("for reading: kube-flannel-cfg.yaml carries it to the kube-flannel DaemonSet"),
    );
    sink.put(path.to_owned(), bytes)?;
    let path = "flannel/kube-flannel-cfg.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "the kube-flannel DaemonSet (its kube-flannel-cfg ConfigMap)",
            "kubectl apply -k flannel/",
        )
        .at("the cluster (kube-flannel)")
        .noted("the overlay in flannel/ patches it into flannel's release manifest"),
    );
    let cm = config_map(path, &conf, flannel.ip_masq)?;
    sink.put(path.to_owned(), yaml(ctx, path, &cm)?)?;
    Ok(())
}

/// flannel's `net-conf.json` (flannel-io/flannel `pkg/subnet/config.go`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetConf {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<IpNet>,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: bool,
    #[serde(rename = "IPv6Network", skip_serializing_if = "Option::is_none")]
    pub ipv6_network: Option<IpNet>,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "EnableNFTables")]
    pub enable_nftables: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_len: Option<u8>,
    #[serde(rename = "IPv6SubnetLen", skip_serializing_if = "Option::is_none")]
    pub ipv6_subnet_len: Option<u8>,
    /// Always written: without it flannel falls back to the `udp` backend.
    pub backend: Backend,
}

/// `Backend`: `Type` plus that backend's own keys.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "Type")]
pub enum Backend {
    #[serde(rename = "vxlan", rename_all = "PascalCase")]
    Vxlan {
        #[serde(rename = "VNI")]
        vni: u32,
        port: u16,
        /// Left out when the MTU is not known: flannel takes the interface's.
        #[serde(rename = "MTU", skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
    },
    #[serde(rename = "host-gw")]
    HostGw,
    #[serde(rename = "wireguard", rename_all = "PascalCase")]
    Wireguard {
        listen_port: u16,
        #[serde(rename = "ListenPortV6", skip_serializing_if = "Option::is_none")]
        listen_port_v6: Option<u16>,
        #[serde(rename = "MTU", skip_serializing_if = "Option::is_none")]
        mtu: Option<u32>,
        /// The Plan's `flannel_wireguard_keepalive` (k3s' 25; none elsewhere).
        #[serde(skip_serializing_if = "Option::is_none")]
        persistent_keepalive_interval: Option<u32>,
    },
}

/// The net-conf of `flannel` (the flannel plugin's or Canal's data path): every value from the
/// Plan's `FlannelSettings`; `Backend.MTU` is the underlay MTU (flannel gives its device
/// `MTU - 50`, flannel-io/flannel `pkg/backend/vxlan/device.go`).
pub fn net_conf(plan: &Plan, flannel: &FlannelSettings) -> NetConf {
    let (v4, v6) = crate::plan::masquerade::first_pod_cidrs(plan);
    let backend = match &flannel.backend {
        FlannelBackend::HostGw => Backend::HostGw,
        FlannelBackend::Wireguard {
            listen_port,
            listen_port_v6,
            mtu,
        } => Backend::Wireguard {
            listen_port: *listen_port,
            listen_port_v6: *listen_port_v6,
            mtu: *mtu,
            persistent_keepalive_interval: flannel_wireguard_keepalive(plan.distribution),
        },
        FlannelBackend::Vxlan { port, vni, mtu } => Backend::Vxlan {
            vni: *vni,
            port: *port,
            mtu: *mtu,
        },
    };
    NetConf {
        network: v4,
        enable_ipv4: v4.is_some(),
        ipv6_network: v6,
        enable_ipv6: v6.is_some(),
        enable_nftables: plan.kube_proxy.mode == KubeProxyMode::Nftables,
        subnet_len: v4.map(|_| plan.node_mask_v4),
        ipv6_subnet_len: v6.map(|_| plan.node_mask_v6),
        backend,
    }
}

/// kube-flannel's ConfigMap (name, namespace and labels as in kube-flannel.yml).
fn config_map(path: &str, conf: &NetConf, ip_masq: bool) -> Result<ConfigMap, EmitError> {
    let labels = BTreeMap::from([("app", "flannel"), ("tier", "node")]);
    let mut cm = ConfigMap::new("kube-flannel-cfg", "kube-flannel", labels);
    cm.insert_json(path, "cni-conf.json", &flannel_conflist(ip_masq))?;
    cm.insert_json(path, "net-conf.json", conf)?;
    Ok(cm)
}
