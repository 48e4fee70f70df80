//! Kernel modules: a requirement is met when the feature is there, loaded or built in. The
//! list is persisted by the node's emitted `host/<node>/modules.conf`, installed as
//! `/etc/modules-load.d/netc.conf` (`emit::host`), so it survives a reboot.

use std::path::Path;
use std::process::Command;

use crate::apply::ApplyError;
use crate::plan::ModuleRequirement;

/// A file or directory whose presence proves a feature without its module being listed
/// anywhere (built into the kernel, no `/sys/module` entry).
fn feature_probe(module: &str) -> Option<&'static str> {
    Some(match module {
        "br_netfilter" => "/proc/sys/net/bridge/bridge-nf-call-iptables",
        "overlay" => "/proc/filesystems",
        "ip_vs" => "/proc/net/ip_vs",
        "nf_conntrack" => "/proc/sys/net/netfilter/nf_conntrack_max",
        "nf_tables" => "/proc/net/netfilter",
        _ => return None,
    })
}

fn listed(path: &Path, module: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines().any(|l| {
            let first = l.split_whitespace().next().unwrap_or("");
            // modules.builtin lists paths (`kernel/net/bridge/bridge.ko`).
            let base = first.rsplit('/').next().unwrap_or(first);
            let base = base.strip_suffix(".ko").unwrap_or(base);
            base.replace('-', "_") == module
        })
    })
}

/// Whether the feature of `module` is available now.
pub fn present(module: &str) -> bool {
    if Path::new("/sys/module").join(module).exists() || listed(Path::new("/proc/modules"), module)
    {
        return true;
    }
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        let builtin = Path::new("/lib/modules")
            .join(release.trim())
            .join("modules.builtin");
        if listed(&builtin, module) {
            return true;
        }
    }
    match (module, feature_probe(module)) {
        ("overlay", Some(p)) => std::fs::read_to_string(p).is_ok_and(|t| t.contains("overlay")),
        ("nf_tables", _) => Command::new("nft")
            .args(["list", "tables"])
            .output()
            .is_ok_and(|o| o.status.success()),
        (_, Some(p)) => Path::new(p).exists(),
        (m, None) if m.starts_with("ip_vs_") => {
            // Schedulers show only once loaded; a kernel without IPVS has none of them.
            Path::new("/proc/net/ip_vs").exists() && try_load(m)
        }
        _ => false,
    }
}

fn try_load(module: &str) -> bool {
    Command::new("modprobe")
        .arg(module)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes sure every required module's feature is there, loading what can be loaded.
/// Fails naming every module that is truly absent.
pub fn ensure(required: &[ModuleRequirement]) -> Result<(), ApplyError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|m| !(present(&m.name) || (try_load(&m.name) && present(&m.name))))
        .map(|m| format!("{} ({})", m.name, m.reason))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::MissingModules(missing))
    }
}
