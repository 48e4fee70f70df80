//! The lab intent, built once: the apply tests each start from the same cluster (kubeadm,
//! bridge CNI, three nodes on the lab LAN `172.16.0.0/24`) and change only what the test is
//! about, instead of copying the whole file and editing it with string replacements.
//!
//! The intent is a `serde_json::Value` written out as YAML by the YAML writer netc itself
//! uses, so every variant is well-formed and a test names the setting it changes.

use serde_json::{Value, json};

/// The lab LAN, as the firewall rules name it.
pub const LAN: &str = "172.16.0.0/24";

/// The one `eth0` every node has: the lab's veth to the LAN, the management interface.
pub fn eth0() -> Value {
    json!({"name": "eth0", "purpose": "management"})
}

/// An intent for the lab, to be changed setting by setting and written with [`LabIntent::yaml`].
#[derive(Clone, Debug)]
pub struct LabIntent {
    doc: Value,
}

impl Default for LabIntent {
    fn default() -> Self {
        Self::new()
    }
}

impl LabIntent {
    /// `lab`: kubeadm v1.31.2, pods in 10.200.0.0/16 (a /24 per node), services in
    /// 10.32.0.0/24, kube-proxy in iptables mode, the bridge CNI; a control-plane node `server`
    /// at 172.16.0.2 and workers `worker-1`, `worker-2` at .3 and .4 (the lab's `n1`, `n2`),
    /// each with [`eth0`]. No firewall, no host overlay.
    pub fn new() -> LabIntent {
        let node = |name: &str, role: &str, last: u8| {
            json!({
                "name": name,
                "role": role,
                "address": format!("172.16.0.{last}/24"),
                "interfaces": [eth0()],
            })
        };
        LabIntent {
            doc: json!({
                "apiVersion": "netc/v1alpha1",
                "kind": "NetworkIntent",
                "metadata": {"name": "lab"},
                "cluster": {
                    "distribution": "kubeadm",
                    "kubernetesVersion": "v1.31.2",
                    "podCIDR": "10.200.0.0/16",
                    "serviceCIDR": "10.32.0.0/24",
                    "nodeCIDRMaskSize": 24,
                    "kubeProxy": {"mode": "iptables"},
                },
                "cni": {"plugin": "bridge"},
                "nodes": [
                    node("server", "control-plane", 2),
                    node("worker-1", "worker", 3),
                    node("worker-2", "worker", 4),
                ],
            }),
        }
    }

    /// Sets the value at a JSON pointer (`/cluster/kubeProxy/mode`), creating the objects on
    /// the way; an array index must exist.
    pub fn set(mut self, pointer: &str, value: impl Into<Value>) -> LabIntent {
        let mut at = &mut self.doc;
        for key in pointer.split('/').skip(1) {
            at = match at {
                Value::Array(items) => {
                    let i: usize = key
                        .parse()
                        .unwrap_or_else(|_| panic!("{pointer}: {key} is not an index"));
                    items
                        .get_mut(i)
                        .unwrap_or_else(|| panic!("{pointer}: no item {i}"))
                }
                other => {
                    if !other.is_object() {
                        *other = json!({});
                    }
                    other
                        .as_object_mut()
                        .expect("an object")
                        .entry(key)
                        .or_insert(Value::Null)
                }
            };
        }
        *at = value.into();
        self
    }

    /// Removes the key a JSON pointer names, if it is there.
    pub fn without(mut self, pointer: &str) -> LabIntent {
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        if let Some(map) = self.doc.pointer_mut(parent).and_then(Value::as_object_mut) {
            map.remove(key);
        }
        self
    }

    /// kube-proxy's mode (`iptables`, `ipvs`, `nftables`).
    pub fn kube_proxy(self, mode: &str) -> LabIntent {
        self.set("/cluster/kubeProxy/mode", mode)
    }

    /// The host overlay: bridge `scbr0` with 192.168.100.0/24, VXLAN VNI `vni` on `eth0`.
    pub fn host_overlay(self, vni: u32) -> LabIntent {
        self.set(
            "/hostOverlay",
            json!({
                "bridge": "scbr0",
                "subnet": "192.168.100.0/24",
                "vxlan": {"port": 4789, "vni": vni, "interface": "eth0"},
            }),
        )
    }

    /// An nftables firewall opening `tcp/22` (management) and, as rule `web`, `tcp/port`
    /// to the lab LAN.
    pub fn nftables_web(self, port: u16) -> LabIntent {
        self.set(
            "/firewall",
            json!({
                "backend": "nftables",
                "managementAccess": ["tcp/22"],
                "rules": [{"name": "web", "ports": [format!("tcp/{port}")], "from": [LAN]}],
            }),
        )
    }

    /// The interfaces of every node.
    pub fn interfaces(self, interfaces: Value) -> LabIntent {
        let n = self.node_count();
        (0..n).fold(self, |lab, i| {
            lab.set(&format!("/nodes/{i}/interfaces"), interfaces.clone())
        })
    }

    /// The interfaces of every worker (the control plane keeps [`eth0`]).
    pub fn worker_interfaces(self, interfaces: Value) -> LabIntent {
        let n = self.node_count();
        (1..n).fold(self, |lab, i| {
            lab.set(&format!("/nodes/{i}/interfaces"), interfaces.clone())
        })
    }

    /// Another worker, with [`eth0`], after the others.
    pub fn worker(mut self, name: &str, address: &str) -> LabIntent {
        if let Some(nodes) = self.doc["nodes"].as_array_mut() {
            nodes.push(json!({
                "name": name,
                "role": "worker",
                "address": address,
                "interfaces": [eth0()],
            }));
        }
        self
    }

    /// The address (`address/prefix`) of the node called `name`.
    pub fn node_address(self, name: &str, address: &str) -> LabIntent {
        let i = self.doc["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().position(|n| n["name"] == name))
            .unwrap_or_else(|| panic!("the lab intent has no node {name}"));
        self.set(&format!("/nodes/{i}/address"), address)
    }

    fn node_count(&self) -> usize {
        self.doc["nodes"].as_array().map_or(0, Vec::len)
    }

    /// The intent as YAML.
    pub fn yaml(&self) -> String {
        serde_saphyr::to_string(&self.doc).expect("the lab intent serializes")
    }
}
