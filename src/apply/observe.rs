//! Reads the current host state: links, addresses, routes and VXLAN forwarding entries over
//! netlink, netc's part of the firewall, the sysctls and files netc manages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::netlink::{Address, Fdb, Link, Netlink, Route};
use super::{ApplyError, files, sysctl};

/// The host as it is now.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    pub fdb: Vec<Fdb>,
    /// Key → current value (`None`: the key does not exist on this kernel).
    pub sysctls: BTreeMap<String, Option<String>>,
    /// The nftables table `inet netc` as `nft list` prints it (`None`: absent).
    pub firewall_nft: Option<String>,
    /// The nftables generation `firewall_nft` holds for (`None`: unknown, or it moved while
    /// the table was listed).
    pub nft_generation: Option<super::firewall::generation::Generation>,
    /// The firewalld zone's ports and rich rules in netc's text form (read only when used).
    pub firewall_firewalld: Option<String>,
    /// Host path → current contents (`None`: absent).
    pub files: BTreeMap<String, Option<Vec<u8>>>,
    /// Host paths of `files` readable by more than netc installs them for
    /// ([`files::too_open`]: a file holding credentials that others may read).
    pub too_open: BTreeSet<String>,
}

impl Observed {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn link_name(&self, index: u32) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.as_str())
    }
}

/// Reads the kernel's links, addresses, routes and forwarding entries.
pub fn observe_kernel(nl: &mut Netlink) -> Result<Observed, ApplyError> {
    let dump = |what: &str, e: std::io::Error| ApplyError::Netlink {
        object: format!("dump of {what}"),
        source: e,
    };
    Ok(Observed {
        links: nl.links().map_err(|e| dump("links", e))?,
        addresses: nl.addresses().map_err(|e| dump("addresses", e))?,
        routes: nl.routes().map_err(|e| dump("routes", e))?,
        fdb: nl.fdb().map_err(|e| dump("forwarding entries", e))?,
        ..Observed::default()
    })
}

/// Reads the sysctls and files named by the desired state (and by the state file).
pub fn observe_host<'a>(
    observed: &mut Observed,
    root: &Path,
    sysctl_dir: &Path,
    sysctl_keys: impl Iterator<Item = &'a str>,
    file_paths: impl Iterator<Item = &'a str>,
) -> Result<(), ApplyError> {
    for key in sysctl_keys {
        observed
            .sysctls
            .insert(key.to_owned(), sysctl::read(sysctl_dir, key));
    }
    for path in file_paths {
        let file = files::read_with_mode(root, path)?;
        if file
            .as_ref()
            .is_some_and(|(_, mode)| files::too_open(path, *mode))
        {
            observed.too_open.insert(path.to_owned());
        }
        observed
            .files
            .insert(path.to_owned(), file.map(|(bytes, _)| bytes));
    }
    Ok(())
}
