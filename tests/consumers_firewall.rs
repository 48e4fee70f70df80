//! The firewall files netc writes, run by the real tools without touching this machine's
//! firewall:
//!
//! - every `firewall/<node>.firewalld.sh` runs (twice: it is idempotent) with `firewall-cmd`
//!   replaced by a shim calling `firewall-offline-cmd`, inside a private mount namespace whose
//!   `/etc/firewalld` is a tmpfs; the zone then opens exactly the Plan's ports, rich rules,
//!   protocols and trusted sources, and nothing else. No firewalld daemon is involved.
//! - every `firewall/<node>.nft` passes `nft -c -f`, then loads (twice) into a namespace this
//!   test creates, with the management ports ahead of everything else.
//! - hostile names in the intent cannot inject commands into the script.

#[path = "consumers/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;

use netc::emit::firewall::{FirewalldKind, TRUSTED_ZONE, firewalld_zone};
use netc::intent::FirewallAction;
use netc::plan::firewall::node_firewall;
use netc::plan::{Plan, Scope};
use support::{Artifacts, Netns, build, run, skip_netns, text, write_all};

/// firewalld with everything the examples lack: a zone of its own, a drop rule, IPv6 and
/// IPv4 sources, role filters, Calico IP-in-IP (a protocol, not a port).
const FIREWALLD_CALICO: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: fw-calico}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
cni: {plugin: calico, encapsulation: ipip, interface: eth1}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.100/24, interfaces: [{name: eth0, purpose: management}, {name: eth1, purpose: data}]}
  - {name: w-1, role: worker, address: 10.0.1.101/24, interfaces: [{name: eth0, purpose: management}, {name: eth1, purpose: data}]}
firewall:
  backend: firewalld
  zone: k8s-edge
  managementAccess: [tcp/22, tcp/2222]
  rules:
    - {name: node-exporter, ports: [tcp/9100], from: [10.0.1.0/24, "fd00:1::/64"], roles: [worker]}
    - {name: web, ports: [tcp/80, tcp/443]}
    - {name: no-telnet, ports: [tcp/23], action: drop}
    - {name: cp-only, ports: [udp/6081], roles: [control-plane]}
"#;

/// The bridge plugin behind firewalld: the firewall also masquerades pods to the outside.
const FIREWALLD_BRIDGE: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: fw-bridge}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.32.0.0/24
cni: {plugin: bridge, mtu: 1500}
nodes:
  - {name: n1, role: control-plane, address: 172.16.0.2/24}
  - {name: n2, role: worker, address: 172.16.0.3/24}
firewall: {backend: firewalld, managementAccess: [tcp/22]}
"#;

/// nftables with interface-scoped claims, sources, drops and dual-stack.
const NFT_DUAL: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: nft-dual}
cluster:
  distribution: rke2
  kubernetesVersion: v1.31.4+rke2r1
  podCIDR: [10.42.0.0/16, "fd00:42::/56"]
  serviceCIDR: [10.43.0.0/16, "fd00:43::/112"]
cni: {plugin: calico, encapsulation: vxlan-cross-subnet, interface: ens4}
hostOverlay:
  bridge: scbr0
  subnet: 192.168.100.0/24
  vxlan: {port: 4789, vni: 100, interface: ens3}
nodes:
  - {name: s1, role: control-plane, address: 10.20.0.10/24, interfaces: [{name: ens3, mtu: 9000}, {name: ens4, mtu: 9000}]}
  - {name: a1, role: worker, address: 10.20.0.11/24, interfaces: [{name: ens3, mtu: 9000}, {name: ens4, mtu: 9000}]}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: metrics, ports: [tcp/9100-9101], from: [10.20.0.0/24, "fd00:20::/64"]}
    - {name: no-smb, ports: [tcp/445], action: drop}
"#;

/// Stands in for `firewall-cmd`: the same zone options, applied offline by
/// `firewall-offline-cmd`, which has no `--permanent` (everything is) and no daemon.
const SHIM: &str = r#"#!/bin/sh
for a in "$@"; do
    shift
    case "$a" in
        --permanent) continue ;;
        --reload|--state) exit 0 ;;
    esac
    set -- "$@" "$a"
done
firewall-offline-cmd "$@"
rc=$?
# ALREADY_ENABLED, NOT_ENABLED, ZONE_ALREADY_SET: the state asked for is there.
case $rc in 11|12|16) exit 0 ;; esac
exit $rc
"#;

/// Lists the zone, runs the script (twice when `$4` is 2: it must be idempotent) in a private
/// mount namespace over a tmpfs `/etc/firewalld`, and lists the zone again.
const RUNNER: &str = r#"
set -eu
dir=$1; script=$2; zone=$3; runs=$4
cp /etc/firewalld/firewalld.conf "$dir/firewalld.conf" 2>/dev/null || true
mount -t tmpfs netc-test /etc/firewalld
if [ -f "$dir/firewalld.conf" ]; then cp "$dir/firewalld.conf" /etc/firewalld/; fi
list() {
    firewall-offline-cmd --zone="$zone" --list-all 2>/dev/null || true
    echo "trusted-sources: $(firewall-offline-cmd --zone=trusted --list-sources 2>/dev/null)"
}
list > "$dir/before"
PATH="$dir/shim:$PATH" sh "$script" > "$dir/run1.log" 2>&1 || { cat "$dir/run1.log"; exit 1; }
list > "$dir/after1"
if [ "$runs" = 2 ]; then
    PATH="$dir/shim:$PATH" sh "$script" > "$dir/run2.log" 2>&1 || { cat "$dir/run2.log"; exit 1; }
    list > "$dir/after2"
fi
"#;

/// A zone as `firewall-offline-cmd --list-all` shows it: field → entries (rich rules one
/// per entry, lowercased: firewalld prints `NOT` for `not`).
fn sections(listing: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    let mut in_rich = false;
    for line in listing.lines() {
        if let Some(rule) = line.strip_prefix('\t') {
            if in_rich {
                out.entry("rich-rules".into())
                    .or_default()
                    .insert(rule.trim().to_lowercase());
            }
            continue;
        }
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        in_rich = key == "rich rules";
        let set = out.entry(key.replace(' ', "-")).or_default();
        set.extend(value.split_whitespace().map(str::to_owned));
    }
    out
}

fn port(range: &netc::intent::values::PortRange) -> String {
    if range.first == range.last {
        format!("{}/{}", range.first, range.protocol)
    } else {
        format!("{}-{}/{}", range.first, range.last, range.protocol)
    }
}

fn family(n: &ipnet::IpNet) -> &'static str {
    if matches!(n, ipnet::IpNet::V4(_)) {
        "ipv4"
    } else {
        "ipv6"
    }
}

/// What node `name`'s zone must open, straight from the Plan.
struct Expected {
    ports: BTreeSet<String>,
    rich: BTreeSet<String>,
    protocols: BTreeSet<String>,
    trusted: BTreeSet<String>,
}

fn expected(plan: &Plan, name: &str) -> Expected {
    let node = plan.node(name).unwrap_or_else(|| panic!("no node {name}"));
    let fw = plan
        .firewall
        .as_ref()
        .unwrap_or_else(|| panic!("no firewall"));
    let mut ports: BTreeSet<String> = fw.management.iter().map(port).collect();
    ports.extend(node.ports.iter().map(|c| port(&c.range)));
    let mut rich = BTreeSet::new();
    for rule in fw.rules.iter().filter(|r| r.applies_to(node.role)) {
        for range in &rule.ports {
            let action = match rule.action {
                FirewallAction::Accept => "accept",
                FirewallAction::Drop => "drop",
            };
            let p = format!(
                "port port=\"{}\" protocol=\"{}\" {action}",
                port(range).split('/').next().unwrap_or_default(),
                range.protocol
            );
            if rule.from.is_empty() && rule.action == FirewallAction::Accept {
                ports.insert(port(range));
            } else if rule.from.is_empty() {
                rich.insert(format!("rule {p}"));
            } else {
                for src in &rule.from {
                    rich.insert(format!(
                        "rule family=\"{}\" source address=\"{src}\" {p}",
                        family(src)
                    ));
                }
            }
        }
    }
    if plan.cni.plugin == netc::intent::CniPlugin::Bridge {
        for n in &plan.pod_cidrs {
            rich.insert(format!(
                "rule family=\"{}\" source address=\"{n}\" destination not address=\"{n}\" masquerade",
                family(n)
            ));
        }
    }
    let mut protocols = BTreeSet::new();
    if plan.cni.plugin == netc::intent::CniPlugin::Calico
        && plan.cni.encapsulation == netc::intent::Encapsulation::Ipip
    {
        protocols.insert("ipip".to_owned());
    }
    let trusted = plan
        .pod_cidrs
        .iter()
        .chain(&plan.service_cidrs)
        .map(ToString::to_string)
        .collect();
    Expected {
        ports,
        rich: rich.into_iter().map(|r| r.to_lowercase()).collect(),
        protocols,
        trusted,
    }
}

fn write_shim(dir: &Path) {
    let shim_dir = dir.join("shim");
    std::fs::create_dir_all(&shim_dir).unwrap_or_else(|e| panic!("{e}"));
    let shim = shim_dir.join("firewall-cmd");
    std::fs::write(&shim, SHIM).unwrap_or_else(|e| panic!("{e}"));
    run("chmod", &["+x", &shim.to_string_lossy()], None);
}

/// Runs `firewall/<node>.firewalld.sh` offline; returns the zone listings (before, after).
fn run_offline(art: &Artifacts, node: &str, zone: &str, runs: u8) -> (String, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_all(dir.path(), art);
    write_shim(dir.path());
    let script = dir.path().join(format!("firewall/{node}.firewalld.sh"));
    let d = dir.path().to_string_lossy().into_owned();
    let runs = runs.to_string();
    let out = run(
        "unshare",
        &[
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            RUNNER,
            "runner",
            &d,
            &script.to_string_lossy(),
            zone,
            &runs,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{node}: the firewalld script failed under firewall-offline-cmd:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let after = read("after1");
    if runs == "2" {
        assert_eq!(
            after,
            read("after2"),
            "{node}: a second run changed the zone"
        );
    }
    (read("before"), after)
}

/// Checks one node's zone after its script ran against what the Plan claims.
fn check_zone(label: &str, plan: &Plan, node: &str, before: &str, after: &str) {
    // A zone the script created starts empty (and unmasqueraded).
    let before = if before.lines().count() <= 1 {
        "services: \nsources: \ninterfaces: \nforward-ports: \nmasquerade: no\n"
    } else {
        before
    };
    let (b, a) = (sections(before), sections(after));
    let want = expected(plan, node);
    let get = |key: &str| a.get(key).cloned().unwrap_or_default();
    assert_eq!(get("ports"), want.ports, "{label} {node}: ports");
    assert_eq!(get("rich-rules"), want.rich, "{label} {node}: rich rules");
    assert_eq!(
        get("protocols"),
        want.protocols,
        "{label} {node}: protocols"
    );
    assert_eq!(
        get("trusted-sources"),
        want.trusted,
        "{label} {node}: trusted sources"
    );
    // apply's firewalld backend programs exactly the entries the script added: both come from
    // emit::firewall::firewalld_zone.
    let model = node_firewall(plan, plan.node(node).unwrap_or_else(|| panic!("no {node}")))
        .unwrap_or_else(|| panic!("no firewall"));
    let mut programmed: std::collections::BTreeMap<&str, BTreeSet<String>> = Default::default();
    for e in firewalld_zone(&model).entries() {
        let (key, value) = match e.kind {
            FirewalldKind::Port => ("ports", e.value.clone()),
            FirewalldKind::Protocol => ("protocols", e.value.clone()),
            FirewalldKind::RichRule => ("rich-rules", e.value.to_lowercase()),
            FirewalldKind::Source => {
                assert_eq!(
                    e.zone, TRUSTED_ZONE,
                    "{label} {node}: a source outside trusted"
                );
                ("trusted-sources", e.value.clone())
            }
        };
        programmed.entry(key).or_default().insert(value);
    }
    for key in ["ports", "protocols", "rich-rules", "trusted-sources"] {
        assert_eq!(
            get(key),
            programmed.get(key).cloned().unwrap_or_default(),
            "{label} {node}: {key} of the script and of apply's firewalld backend"
        );
    }
    // Nothing else: the zone's services and sources are as firewalld shipped them.
    for key in [
        "services",
        "sources",
        "interfaces",
        "forward-ports",
        "masquerade",
    ] {
        assert_eq!(a.get(key), b.get(key), "{label} {node}: {key} changed");
    }
}

#[test]
fn firewalld_scripts_open_exactly_the_planned_ports() {
    if skip_netns() {
        eprintln!(
            "NETC_SKIP_NETNS=1: skipping the firewall-offline-cmd test (needs a mount namespace)"
        );
        return;
    }
    let mut builds = vec![
        (
            "fw-calico".to_owned(),
            build("fw-calico.yaml", FIREWALLD_CALICO),
        ),
        (
            "fw-bridge".to_owned(),
            build("fw-bridge.yaml", FIREWALLD_BRIDGE),
        ),
    ];
    for (name, plan, art) in support::all_examples() {
        builds.push((name, (plan, art)));
    }
    // firewall-offline-cmd takes most of a second per call: run each distinct script once
    // (nodes of one role usually share theirs), two at a time.
    let mut jobs: Vec<(&str, &Plan, &Artifacts, &str, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (label, (plan, art)) in &builds {
        let Some(fw) = &plan.firewall else { continue };
        for node in &plan.nodes {
            let Some(script) = art.get(&format!("firewall/{}.firewalld.sh", node.name)) else {
                continue;
            };
            let body = text(script).replace(&node.name, "NODE");
            if seen.insert((label.clone(), body)) {
                jobs.push((label, plan, art, &node.name, fw.zone.clone()));
            }
        }
    }
    assert!(
        jobs.len() >= 6,
        "only {} firewalld scripts to run",
        jobs.len()
    );
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(std::collections::BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((label, plan, art, node, zone)) = jobs.get(i) else {
                        break;
                    };
                    // The first script also proves a second run changes nothing.
                    let runs = if i == 0 { 2 } else { 1 };
                    let (before, after) = run_offline(art, node, zone, runs);
                    check_zone(label, plan, node, &before, &after);
                    if let Ok(mut r) = results.lock() {
                        r.insert((label.to_string(), node.to_string()), after);
                    }
                }
            });
        }
    });

    // One case spelled out, so the expectation does not only come from the Plan.
    let results = results.into_inner().unwrap_or_default();
    let after = results
        .get(&("fw-calico".to_owned(), "w-1".to_owned()))
        .unwrap_or_else(|| panic!("fw-calico w-1 did not run"));
    let a = sections(after);
    let ports = a.get("ports").cloned().unwrap_or_default();
    let want: BTreeSet<String> = [
        "22/tcp",
        "2222/tcp",
        "10250/tcp",
        "10256/tcp",
        "30000-32767/tcp",
        "30000-32767/udp",
        "179/tcp",
        "5473/tcp",
        "80/tcp",
        "443/tcp",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(ports, want, "w-1 in k8s-edge");
    let rich = a.get("rich-rules").cloned().unwrap_or_default();
    assert!(rich.contains("rule family=\"ipv6\" source address=\"fd00:1::/64\" port port=\"9100\" protocol=\"tcp\" accept"), "{rich:?}");
    assert!(
        rich.contains("rule port port=\"23\" protocol=\"tcp\" drop"),
        "{rich:?}"
    );
    assert!(
        !ports.contains("6081/udp"),
        "a control-plane rule leaked onto a worker"
    );
    assert_eq!(
        a.get("protocols").cloned().unwrap_or_default(),
        BTreeSet::from(["ipip".to_owned()])
    );
}

#[test]
fn firewalld_script_quotes_hostile_names() {
    if skip_netns() {
        return;
    }
    let marker = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pwned = marker.path().join("pwned");
    let p = pwned.to_string_lossy();
    let intent = format!(
        r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: hostile}}
cluster: {{distribution: kubeadm, kubernetesVersion: v1.31.2, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}}
cni: {{plugin: flannel}}
nodes:
  - {{name: n1, role: worker, address: 10.0.0.2/24}}
firewall:
  backend: firewalld
  zone: "z'; touch {p}; echo '"
  managementAccess: [tcp/22]
  rules:
    - {{name: "metrics\ntouch {p}\n$(touch {p})", ports: [tcp/9100]}}
"#
    );
    // Validation may reject these names; the emitter must be safe regardless.
    let (plan, art) = support::build_unchecked("hostile.yaml", &intent);
    let script = text(&art["firewall/n1.firewalld.sh"]);
    for line in script.lines() {
        assert!(
            !line.trim_start().starts_with("touch"),
            "injected line: {line}"
        );
    }
    let zone = plan
        .firewall
        .as_ref()
        .map(|f| f.zone.clone())
        .unwrap_or_default();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_all(dir.path(), &art);
    let shim_dir = dir.path().join("shim");
    std::fs::create_dir_all(&shim_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(shim_dir.join("firewall-cmd"), SHIM).unwrap_or_else(|e| panic!("{e}"));
    run(
        "chmod",
        &["+x", &shim_dir.join("firewall-cmd").to_string_lossy()],
        None,
    );
    let d = dir.path().to_string_lossy().into_owned();
    let s = dir.path().join("firewall/n1.firewalld.sh");
    // firewalld refuses the zone name, so the script may fail; it must not run anything else.
    let _ = run(
        "unshare",
        &[
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            RUNNER,
            "runner",
            &d,
            &s.to_string_lossy(),
            &zone,
            "1",
        ],
        None,
    );
    assert!(!Path::new(&*p).exists(), "a hostile name ran a command");
}

#[test]
fn nft_files_check_and_load_in_a_test_namespace() {
    if skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping the nft test");
        return;
    }
    let mut builds = vec![("nft-dual".to_owned(), build("nft-dual.yaml", NFT_DUAL))];
    for (name, plan, art) in support::all_examples() {
        builds.push((name, (plan, art)));
    }
    let ns = Netns::new("nft");
    let mut checked = 0;
    for (label, (plan, art)) in &builds {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        write_all(dir.path(), art);
        for node in &plan.nodes {
            let rel = format!("firewall/{}.nft", node.name);
            if !art.contains_key(&rel) {
                continue;
            }
            let file = dir.path().join(&rel);
            let file = file.to_string_lossy();
            let out = ns.exec(&["nft", "-c", "-f", &file], &[], None);
            assert!(
                out.status.success(),
                "{label} {rel}: nft -c rejects it:\n{}",
                text(&out.stderr)
            );
            // Loading twice in one namespace: the file replaces its own table.
            ns.ok(&["nft", "-f", &file]);
            ns.ok(&["nft", "-f", &file]);
            let table = ns.ok(&["nft", "list", "table", "inet", "netc"]);
            assert_eq!(
                table.matches("chain input").count(),
                1,
                "{label} {rel}: table doubled"
            );
            let fw = plan
                .firewall
                .as_ref()
                .unwrap_or_else(|| panic!("no firewall"));
            let lines: Vec<&str> = table.lines().map(str::trim).collect();
            let pos = |needle: &str| lines.iter().position(|l| l.contains(needle));
            for m in &fw.management {
                let p = port(m);
                let (n, proto) = p.split_once('/').unwrap_or_default();
                let mgmt = format!("{proto} dport {n} accept comment \"management\"");
                let at =
                    pos(&mgmt).unwrap_or_else(|| panic!("{label} {rel}: no `{mgmt}`:\n{table}"));
                // Management access precedes every other port rule.
                let first_other = lines.iter().position(|l| {
                    l.contains(" dport ") && !l.contains("management") && !l.contains("DHCP")
                });
                assert!(
                    first_other.is_none_or(|o| at < o),
                    "{label} {rel}: management is not first"
                );
            }
            for claim in &node.ports {
                let (n, proto) = {
                    let p = port(&claim.range);
                    let (a, b) = p
                        .split_once('/')
                        .map(|(a, b)| (a.to_owned(), b.to_owned()))
                        .unwrap_or_default();
                    (a, b)
                };
                let rule = match &claim.scope {
                    Scope::All => format!("{proto} dport {n} accept"),
                    Scope::Interface(i) => format!("iifname \"{i}\" {proto} dport {n} accept"),
                };
                assert!(
                    pos(&rule).is_some(),
                    "{label} {rel}: no `{rule}` for {}:\n{table}",
                    claim.component
                );
            }
            ns.ok(&["nft", "delete", "table", "inet", "netc"]);
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} nft files checked");
}
