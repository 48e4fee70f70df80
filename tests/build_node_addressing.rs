//! Node addressing reaches each distribution in its form: the dual-stack `node-ip` pair in the
//! cluster's family order (kubeadm `kubeletExtraArgs`, RKE2/k3s `node-ip` lists, Canonical
//! `extra-node-kubelet-args`), `node-external-ip` (RKE2, k3s) and the servers'
//! `advertise-address`; a control-plane node's `bindAddress` (k3s `bind-address`, manual
//! `--bind-address`, kubeadm's per-node kube-apiserver patch, read back the way kubeadm reads
//! patch files).

mod build_common;

use build_common::emit_text;
use netc::diagnostic::SourceFile;
use netc::intent::Syntax;
use netc::pipeline;
use serde_json::Value;

fn intent(dist: &str) -> String {
    let version = match dist {
        "rke2" => "v1.31.4+rke2r1",
        "k3s" => "v1.31.4+k3s1",
        _ => "v1.31.2",
    };
    let plugin = if dist == "canonical" {
        "cilium"
    } else {
        "flannel"
    };
    let external = if matches!(dist, "rke2" | "k3s") {
        "\n    externalAddress: [2001:db8::10, 203.0.113.10]"
    } else {
        ""
    };
    format!(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: addr}}
cluster:
  distribution: {dist}
  kubernetesVersion: {version}
  podCIDR: [fd00:10:244::/56, 10.244.0.0/16]
  serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]
cni: {{plugin: {plugin}}}
nodes:
  - name: cp-1
    role: control-plane
    address: fd00:1::10/64
    secondaryAddress: 10.0.1.10/24{external}
  - {{name: worker-1, role: worker, address: 10.0.1.11/24, secondaryAddress: fd00:1::11/64}}
  - {{name: worker-2, role: worker, address: 10.0.1.12/24}}
"
    )
}

fn yaml(bytes: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(bytes);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rke2_and_k3s_list_node_ips_in_cluster_order_external_ips_and_advertise_address() {
    for dist in ["rke2", "k3s"] {
        let files = emit_text("addr.yaml", &intent(dist));
        let cp = &yaml(&files[&format!("{dist}/cp-1/config.yaml")])[0];
        // The cluster CIDRs are written IPv4 first, so every node-ip pair is too.
        let cluster_cidr = cp["cluster-cidr"].as_str().expect("cluster-cidr");
        assert!(cluster_cidr.starts_with("10.244."), "{cluster_cidr}");
        assert_eq!(
            strings(&cp["node-ip"]),
            ["10.0.1.10", "fd00:1::10"],
            "{dist}"
        );
        assert_eq!(
            strings(&cp["node-external-ip"]),
            ["203.0.113.10", "2001:db8::10"],
            "{dist}"
        );
        // With an external address k3s would advertise it; the node's own address of the
        // first service CIDR's family (IPv4 here, though the primary is IPv6) is written:
        // kube-apiserver refuses an advertised address of another family.
        assert_eq!(cp["advertise-address"], "10.0.1.10", "{dist}");
        let w1 = &yaml(&files[&format!("{dist}/worker-1/config.yaml")])[0];
        assert_eq!(
            strings(&w1["node-ip"]),
            ["10.0.1.11", "fd00:1::11"],
            "{dist}"
        );
        assert!(
            w1.get("advertise-address").is_none(),
            "{dist}: agents have no API server"
        );
        assert!(w1.get("node-external-ip").is_none(), "{dist}");
        // A single-interface node without a second family keeps the kubelet's own choice.
        let w2 = &yaml(&files[&format!("{dist}/worker-2/config.yaml")])[0];
        assert!(w2.get("node-ip").is_none(), "{dist}: {w2}");
    }
}

#[test]
fn kubeadm_node_ip_is_one_comma_separated_pair() {
    let files = emit_text("addr.yaml", &intent("kubeadm"));
    let join = &yaml(&files["kubeadm/join-worker-1.yaml"])[0];
    let args = &join["nodeRegistration"]["kubeletExtraArgs"];
    // v1beta4: a list of {name, value}.
    let node_ip = args
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == "node-ip"))
        .expect("node-ip");
    assert_eq!(node_ip["value"], "10.0.1.11,fd00:1::11");
    let init = yaml(&files["kubeadm/init.yaml"]);
    let init_cfg = init
        .iter()
        .find(|d| d["kind"] == "InitConfiguration")
        .expect("InitConfiguration");
    // The first service CIDR is IPv4: the IPv4 (secondary) address is advertised.
    assert_eq!(
        init_cfg["localAPIEndpoint"]["advertiseAddress"],
        "10.0.1.10"
    );
}

#[test]
fn canonical_node_ip_pair() {
    let files = emit_text("addr.yaml", &intent("canonical"));
    let join = &yaml(&files["canonical/join-worker-1.yaml"])[0];
    assert_eq!(
        join["extra-node-kubelet-args"]["--node-ip"], "10.0.1.11,fd00:1::11",
        "{join}"
    );
}

// ---------------------------------------------------------------------------------------------
// bindAddress: the address a control-plane node's API server listens on.

/// Two control-plane nodes and a worker; `cp-1` binds `bind_1` (its data interface's address
/// by default), `cp-2` its primary address.
fn bind_intent(dist: &str, bind_1: &str) -> String {
    let version = match dist {
        "k3s" => "v1.31.4+k3s1",
        "kubeadm-v1beta3" => "v1.30.6",
        _ => "v1.31.2",
    };
    let dist = dist.trim_end_matches("-v1beta3");
    format!(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: bind}}
cluster:
  distribution: {dist}
  kubernetesVersion: {version}
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
cni: {{plugin: flannel}}
nodes:
  - name: cp-1
    role: control-plane
    address: 10.0.1.10/24
    bindAddress: \"{bind_1}\"
    interfaces:
      - {{name: eth0, purpose: management}}
      - {{name: eth1, purpose: data, address: 192.168.50.10/24}}
  - {{name: cp-2, role: control-plane, address: 10.0.1.11/24, bindAddress: 10.0.1.11}}
  - {{name: worker-1, role: worker, address: 10.0.1.12/24}}
"
    )
}

#[test]
fn k3s_servers_bind_advertise_and_are_joined_at_the_bind_address() {
    let files = emit_text("bind.yaml", &bind_intent("k3s", "192.168.50.10"));
    let cp1 = &yaml(&files["k3s/cp-1/config.yaml"])[0];
    assert_eq!(cp1["bind-address"], "192.168.50.10", "{cp1}");
    // Only the bound address answers, so it is the advertised one (not node-ip 10.0.1.10).
    assert_eq!(cp1["advertise-address"], "192.168.50.10", "{cp1}");
    let cp2 = &yaml(&files["k3s/cp-2/config.yaml"])[0];
    assert_eq!(cp2["bind-address"], "10.0.1.11");
    // Every other node joins the first server where it listens.
    assert_eq!(cp2["server"], "https://192.168.50.10:6443");
    let w = &yaml(&files["k3s/worker-1/config.yaml"])[0];
    assert_eq!(w["server"], "https://192.168.50.10:6443");
    assert!(w.get("bind-address").is_none(), "agents: {w}");
    // The unspecified address is k3s's default listener: nothing written, nothing moved.
    let files = emit_text("bind.yaml", &bind_intent("k3s", "::"));
    let cp1 = &yaml(&files["k3s/cp-1/config.yaml"])[0];
    assert!(cp1.get("bind-address").is_none(), "{cp1}");
    assert!(cp1.get("advertise-address").is_none(), "{cp1}");
    assert_eq!(
        yaml(&files["k3s/worker-1/config.yaml"])[0]["server"],
        "https://10.0.1.10:6443"
    );
}

#[test]
fn manual_apiserver_binds_and_advertises() {
    let files = emit_text("bind.yaml", &bind_intent("manual", "192.168.50.10"));
    let env = String::from_utf8_lossy(&files["manual/cp-1/kube-apiserver.env"]).into_owned();
    let args = env
        .lines()
        .find_map(|l| l.strip_prefix("ARGS="))
        .expect("ARGS line");
    assert!(args.contains("--bind-address=192.168.50.10"), "{args}");
    assert!(args.contains("--advertise-address=192.168.50.10"), "{args}");
    // kube-proxy's kubeconfig reaches the API server where it listens.
    let kubeconfig = String::from_utf8_lossy(&files["manual/worker-1/kube-proxy.kubeconfig"]);
    assert!(
        kubeconfig.contains("https://192.168.50.10:6443"),
        "{kubeconfig}"
    );
    // As written, unspecified included: kube-apiserver reads 0.0.0.0 and :: alike.
    let files = emit_text("bind.yaml", &bind_intent("manual", "0.0.0.0"));
    let env = String::from_utf8_lossy(&files["manual/cp-1/kube-apiserver.env"]).into_owned();
    assert!(env.contains("--bind-address=0.0.0.0"), "{env}");
    assert!(env.contains("--advertise-address=10.0.1.10"), "{env}");
}

/// kubeadm's patch file names (`cmd/kubeadm/app/util/patches/patches.go`, `parseFilename`):
/// the extension must be `json` or `yaml` (else the file is ignored), the name must start with
/// a known target (else ignored), then an optional suffix without `.` or `+`, then an optional
/// `+` that must be followed by `json`, `merge` or `strategic` (else kubeadm fails); no type is
/// a strategic merge patch. `Ok(None)`: kubeadm ignores the file.
fn kubeadm_patch_file(name: &str) -> Result<Option<(&'static str, &'static str)>, String> {
    const TARGETS: [&str; 6] = [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubeletconfiguration",
        "corednsdeployment",
    ];
    let ext_ok = [".json", ".yaml"]
        .iter()
        .any(|e| name.len() > e.len() && name.ends_with(e));
    if !ext_ok {
        return Ok(None);
    }
    let Some(target) = TARGETS.into_iter().find(|t| name.starts_with(t)) else {
        return Ok(None);
    };
    let rest = &name[target.len()..];
    let rest = rest.trim_start_matches(|c| c != '.' && c != '+' && c != '\n');
    let Some(after_plus) = rest.strip_prefix('+') else {
        return Ok(Some((target, "strategic")));
    };
    ["json", "merge", "strategic"]
        .into_iter()
        .find(|t| after_plus.starts_with(t))
        .map(|t| Some((target, t)))
        .ok_or_else(|| format!("{name}: unknown or missing patch type after '+'"))
}

/// The kube-apiserver static Pod as kubeadm builds it before patching (`ComponentPod`: one
/// container; `getAPIServerCommand`: no `--bind-address`), the patch file's documents applied
/// in order as RFC 6902 patches (python `jsonpatch`, the reference implementation the test
/// dependencies install); the patched command.
fn kubeadm_patched_command(patch_yaml: &[u8]) -> Vec<String> {
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kube-apiserver", "namespace": "kube-system"},
        "spec": {"hostNetwork": true, "containers": [{
            "name": "kube-apiserver",
            "command": ["kube-apiserver", "--advertise-address=192.168.50.10", "--secure-port=6443"],
        }]},
    });
    let script = "import json, sys, yaml, jsonpatch\n\
        pod = json.loads(sys.argv[1])\n\
        for doc in yaml.safe_load_all(sys.stdin.read()):\n\
        \x20   if doc is not None:\n\
        \x20       pod = jsonpatch.JsonPatch(doc).apply(pod)\n\
        print(json.dumps(pod))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, &pod.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (with jsonpatch and pyyaml: scripts/install-test-deps.sh)");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), patch_yaml).expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "jsonpatch rejects the patch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let patched: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    strings(&patched["spec"]["containers"][0]["command"])
}

#[test]
fn kubeadm_patch_names_parse_as_kubeadm_reads_them() {
    assert_eq!(
        kubeadm_patch_file("kube-apiserver+json.yaml"),
        Ok(Some(("kube-apiserver", "json")))
    );
    assert_eq!(
        kubeadm_patch_file("kube-apiserver0.yaml"),
        Ok(Some(("kube-apiserver", "strategic")))
    );
    assert_eq!(kubeadm_patch_file("kube-apiserver+json.txt"), Ok(None));
    assert_eq!(kubeadm_patch_file("apiserver+json.yaml"), Ok(None));
    assert!(kubeadm_patch_file("etcd+foo.json").is_err());
}

#[test]
fn kubeadm_binds_through_a_per_node_kube_apiserver_patch() {
    for dist in ["kubeadm", "kubeadm-v1beta3"] {
        let files = emit_text("bind.yaml", &bind_intent(dist, "192.168.50.10"));
        let src = SourceFile::new("bind.yaml", bind_intent(dist, "192.168.50.10"));
        let checked = pipeline::check(&src, Syntax::Yaml);
        let plan = checked.valid_plan().expect("valid");
        for (node, bind) in [("cp-1", "192.168.50.10"), ("cp-2", "10.0.1.11")] {
            // One patch file per control-plane node, named as kubeadm parses it.
            let prefix = format!("kubeadm/patches/{node}/");
            let patches: Vec<&String> = files.keys().filter(|k| k.starts_with(&prefix)).collect();
            assert_eq!(patches.len(), 1, "{dist} {node}: {patches:?}");
            let name = &patches[0][prefix.len()..];
            assert_eq!(
                kubeadm_patch_file(name),
                Ok(Some(("kube-apiserver", "json"))),
                "{name}"
            );
            // Applied as kubeadm applies it, the API server's command ends with the flag.
            let command = kubeadm_patched_command(&files[patches[0].as_str()]);
            assert_eq!(
                command.last().map(String::as_str),
                Some(format!("--bind-address={bind}").as_str()),
                "{dist} {node}: {command:?}"
            );
            assert_eq!(command[0], "kube-apiserver");
            // `netc apply` installs it in the directory the node's configuration names.
            let installed = netc::emit::node_artifacts(plan, "bind.yaml", node)
                .expect("emit")
                .expect("node");
            let patch = installed
                .iter()
                .find(|a| a.path == *patches[0])
                .expect("the patch is installed");
            let netc::emit::Target::File(host_path) = &patch.target else {
                panic!("a file");
            };
            let config_path = if node == "cp-1" {
                "kubeadm/init.yaml".to_owned()
            } else {
                format!("kubeadm/join-{node}.yaml")
            };
            let docs = yaml(&files[&config_path]);
            let config = docs
                .iter()
                .find(|d| {
                    matches!(
                        d["kind"].as_str(),
                        Some("InitConfiguration" | "JoinConfiguration")
                    )
                })
                .expect("Init/JoinConfiguration");
            let dir = config["patches"]["directory"]
                .as_str()
                .expect("patches.directory");
            assert_eq!(
                std::path::Path::new(host_path).parent(),
                Some(std::path::Path::new(dir)),
                "{dist} {node}"
            );
            // kubeadm probes the API server at the advertised address: the bound one.
            let endpoint = if node == "cp-1" {
                &config["localAPIEndpoint"]
            } else {
                &config["controlPlane"]["localAPIEndpoint"]
            };
            assert_eq!(endpoint["advertiseAddress"], bind, "{dist} {node}");
            // cloud-init carries the same bytes to the same place.
            let cloud = &yaml(&files[&format!("cloud-init/{node}.yaml")])[0];
            let written = cloud["write_files"]
                .as_array()
                .and_then(|w| w.iter().find(|f| f["path"] == host_path.as_str()))
                .expect("write_files entry");
            assert_eq!(
                written["content"].as_str().map(str::as_bytes),
                Some(files[patches[0].as_str()].as_slice())
            );
        }
        // The worker joins the first control-plane node where it listens, and has no patch.
        let join = &yaml(&files["kubeadm/join-worker-1.yaml"])[0];
        assert_eq!(
            join["discovery"]["bootstrapToken"]["apiServerEndpoint"],
            "192.168.50.10:6443"
        );
        assert!(join.get("patches").is_none(), "{join}");
        assert!(
            !files
                .keys()
                .any(|k| k.starts_with("kubeadm/patches/worker-1/"))
        );
    }
    // The unspecified address is kube-apiserver's default: no patch.
    let files = emit_text("bind.yaml", &bind_intent("kubeadm", "0.0.0.0"));
    assert!(!files.keys().any(|k| k.starts_with("kubeadm/patches/cp-1/")));
    let init = yaml(&files["kubeadm/init.yaml"]);
    assert!(init[0].get("patches").is_none());
    assert_eq!(init[0]["localAPIEndpoint"]["advertiseAddress"], "10.0.1.10");
}
