//! The host interfaces a pass reads and changes: rtnetlink ([`netlink`]), `/proc/sys`
//! ([`sysctl`]), kernel modules ([`modules`]), files under `--root` ([`files`]), and the
//! connectivity probes ([`probe`]).

pub mod files;
pub mod modules;
pub mod netlink;
pub mod probe;
pub mod sysctl;
