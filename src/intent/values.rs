//! The value syntaxes inside intent strings: CIDRs, interface addresses, ports, versions.
//! `validate` reports where they are malformed; `plan` reads them once they are known good.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::Serialize;

/// Why a CIDR text is not a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CidrError {
    /// Not `address/prefix` at all.
    Syntax,
    /// `10.244.1.0/16`: the address has bits set past the prefix.
    HostBits { network: IpNet },
}

/// A network (`10.244.0.0/16`): no host bits allowed.
pub fn parse_network(text: &str) -> Result<IpNet, CidrError> {
    let net = IpNet::from_str(text.trim()).map_err(|_| CidrError::Syntax)?;
    if net.trunc() == net {
        Ok(net)
    } else {
        Err(CidrError::HostBits {
            network: net.trunc(),
        })
    }
}

/// An ipBlock `cidr`/`except` as the API server takes it: host bits allowed and kept as
/// written (`192.168.1.7/24`), matching its network (`trunc`). Kubernetes validates these with
/// `IsValidCIDRForLegacyField` and then reads them with `ParseCIDRSloppy`, which masks the
/// address (`ValidateIPBlock` in kubernetes/kubernetes pkg/apis/networking/validation/
/// validation.go, v1.33); `validate` warns with the canonical form.
pub fn parse_block(text: &str) -> Result<IpNet, CidrError> {
    IpNet::from_str(text.trim()).map_err(|_| CidrError::Syntax)
}

/// An interface address with its prefix (`10.0.1.100/24`): host bits expected.
pub fn parse_interface_address(text: &str) -> Option<IpNet> {
    IpNet::from_str(text.trim()).ok()
}

/// A single address (`10.96.0.10`).
pub fn parse_address(text: &str) -> Option<IpAddr> {
    IpAddr::from_str(text.trim()).ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `tcp/22`, `udp/30000-32767`: a protocol and an inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortRange {
    pub protocol: Protocol,
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub const fn single(protocol: Protocol, port: u16) -> Self {
        Self {
            protocol,
            first: port,
            last: port,
        }
    }

    pub const fn range(protocol: Protocol, first: u16, last: u16) -> Self {
        Self {
            protocol,
            first,
            last,
        }
    }

    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.protocol == other.protocol && self.first <= other.last && other.first <= self.last
    }

    pub fn contains(&self, other: &PortRange) -> bool {
        self.protocol == other.protocol && self.first <= other.first && other.last <= self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}/{}", self.protocol, self.first)
        } else {
            write!(f, "{}/{}-{}", self.protocol, self.first, self.last)
        }
    }
}

/// A policy port: numeric (range), an IANA service name (`tcp/http`), or a protocol alone
/// (`tcp`: every port of it, a NetworkPolicyPort with `protocol` and no `port`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyPort {
    Numeric(PortRange),
    Named { protocol: Protocol, name: String },
    All(Protocol),
}

impl PolicyPort {
    /// The numbers it admits, when they do not depend on the destination (a named port's do).
    pub fn numbers(&self) -> Option<PortRange> {
        match self {
            PolicyPort::Numeric(r) => Some(*r),
            PolicyPort::All(protocol) => Some(PortRange::range(*protocol, 1, u16::MAX)),
            PolicyPort::Named { .. } => None,
        }
    }
}

/// Why a port text is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortError {
    /// Not `proto/port`.
    Syntax,
    UnknownProtocol(String),
    /// 0 or above 65535, or not a number.
    OutOfRange(String),
    /// `tcp/9000-8000`.
    EndBeforeStart {
        first: u16,
        last: u16,
    },
    /// A named port that is not an IANA service name.
    BadName(String),
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::Syntax => f.write_str("expected `protocol/port` such as `tcp/8080`"),
            PortError::UnknownProtocol(p) => {
                write!(f, "unknown protocol `{p}` (tcp, udp or sctp)")
            }
            PortError::OutOfRange(p) => write!(f, "`{p}` is not a port number 1-65535"),
            PortError::EndBeforeStart { first, last } => {
                write!(f, "range end {last} is below its start {first}")
            }
            PortError::BadName(n) => {
                write!(f, "`{n}` is not a valid named port (IANA service name)")
            }
        }
    }
}

fn parse_protocol(text: &str) -> Result<Protocol, PortError> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "sctp" => Ok(Protocol::Sctp),
        _ => Err(PortError::UnknownProtocol(text.to_owned())),
    }
}

fn parse_port_number(text: &str) -> Result<u16, PortError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(PortError::OutOfRange(text.to_owned())),
    }
}

/// `tcp/22` or `udp/30000-32767`.
pub fn parse_port_range(text: &str) -> Result<PortRange, PortError> {
    let (proto, ports) = text.trim().split_once('/').ok_or(PortError::Syntax)?;
    let protocol = parse_protocol(proto)?;
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (parse_port_number(a)?, parse_port_number(b)?),
        None => {
            let p = parse_port_number(ports)?;
            (p, p)
        }
    };
    if last < first {
        return Err(PortError::EndBeforeStart { first, last });
    }
    Ok(PortRange::range(protocol, first, last))
}

/// A NetworkPolicy port: `tcp/8080`, `tcp/8000-8080`, `tcp/http` (IANA_SVC_NAME rules), or
/// `tcp` alone (every TCP port: "If this field is not provided, this matches all port names
/// and numbers", NetworkPolicyPort.port in kubernetes/kubernetes staging/src/k8s.io/api/
/// networking/v1/types.go).
pub fn parse_policy_port(text: &str) -> Result<PolicyPort, PortError> {
    let Some((proto, port)) = text.trim().split_once('/') else {
        return match parse_protocol(text.trim()) {
            Ok(protocol) => Ok(PolicyPort::All(protocol)),
            Err(_) => Err(PortError::Syntax),
        };
    };
    if port.starts_with(|c: char| c.is_ascii_digit()) {
        return parse_port_range(text).map(PolicyPort::Numeric);
    }
    let protocol = parse_protocol(proto)?;
    if is_iana_service_name(port) {
        Ok(PolicyPort::Named {
            protocol,
            name: port.to_owned(),
        })
    } else {
        Err(PortError::BadName(port.to_owned()))
    }
}

/// IANA_SVC_NAME: 1-15 of `[a-z0-9-]`, at least one letter, no `--`, no leading/trailing `-`.
pub fn is_iana_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.contains("--")
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `v1.31.2` (the leading `v` optional).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KubeVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        // Drop pre-release / build suffixes (`1.31.2+rke2r1`, `1.31.0-rc.1`).
        let core = t.split(['+', '-']).next().unwrap_or(t);
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A Go `time.Duration` in nanoseconds, as `time.ParseDuration` reads it (Go's `time/format.go`):
/// an optional sign, then one or more decimal numbers (a fraction allowed), each with a unit of
/// `ns`, `us`/`µs`, `ms`, `s`, `m` or `h`; a bare `0` is zero. kube-proxy's duration fields and
/// flags (`metav1.Duration`, `pflag.DurationVar`) take exactly this syntax.
pub fn parse_go_duration(text: &str) -> Result<i128, String> {
    let not_one = || format!("`{text}` is not a Go duration (e.g. `30s`, `1h30m`, `500ms`)");
    let t = text.trim();
    let (negative, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(not_one());
    }
    let mut total: f64 = 0.0;
    let mut s = rest;
    while !s.is_empty() {
        let number_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let number = &s[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(not_one());
        }
        let value: f64 = number.parse().map_err(|_| not_one())?;
        s = &s[number_len..];
        let unit_len = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let nanos_per_unit: f64 = match &s[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("`{text}` lacks a unit (ns, us, ms, s, m, h)")),
            other => return Err(format!("`{text}` has an unknown unit `{other}`")),
        };
        total += value * nanos_per_unit;
        s = &s[unit_len..];
    }
    // Go's Duration is an int64 of nanoseconds.
    if total > i64::MAX as f64 {
        return Err(format!("`{text}` is longer than a Go duration can hold"));
    }
    let nanos = total.round() as i128;
    Ok(if negative { -nanos } else { nanos })
}

/// DNS-1123 label: ≤ 63 of `[a-z0-9-]`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// DNS-1123 subdomain: ≤ 253, dot-separated labels (node names, the cluster domain).
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// A Kubernetes object name (`IsDNS1123Subdomain` in kubernetes/kubernetes staging/src/k8s.io/
/// apimachinery/pkg/util/validation/validation.go): at most 253 of `[a-z0-9.-]`, dot-separated
/// parts each starting and ending with a letter or digit; unlike DNS, no 63-character limit per
/// part (`allow-traffic-from-vendor-system-to-kube-system-on-all-ports-with-typo` is a valid
/// NetworkPolicy name).
pub fn is_object_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// A Linux interface name: 1-15 bytes, no `/`, `:`, whitespace, not `.` or `..`.
pub fn is_interface_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_INTERFACE_NAME
        && s != "."
        && s != ".."
        && !s
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0')
}

/// The IPVS schedulers kube-proxy accepts (`validateIPVSSchedulerMethod` in kubernetes
/// `pkg/proxy/apis/config/validation/validation.go`); each is a kernel module `ip_vs_<name>`
/// (`net/netfilter/ipvs/Kconfig`), which netc loads on the nodes.
pub const IPVS_SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq",
];

/// A host name, IPv4 address or IPv6 address (bracketed or not) as a network endpoint's host.
fn is_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    host.parse::<IpAddr>().is_ok() || is_dns1123_subdomain(&host.to_ascii_lowercase())
}

fn is_port(port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// `host` or `host:port` (`10.0.1.100:6443`, `api.example.com`, `[fd00::1]:6443`), as kubeadm
/// reads `controlPlaneEndpoint` (`ParseHostPort`, `cmd/kubeadm/app/util/endpoint.go`): the host
/// an IP address or a DNS-1123 subdomain, the port 1-65535.
pub fn is_endpoint(text: &str) -> bool {
    if text.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.starts_with('[') => {
            is_port(port) && is_host(host)
        }
        Some(_) => false,
        None => is_host(text),
    }
}

/// The host and the port of an endpoint [`is_endpoint`] accepts (`[fd00::1]:6443` →
/// (`fd00::1`, `6443`); a bare IPv6 address has no port).
pub fn endpoint_parts(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (host, after.strip_prefix(':'));
    }
    if text.parse::<std::net::Ipv6Addr>().is_ok() {
        return (text, None);
    }
    match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    }
}

/// The host part of an endpoint (`[fd00::1]:6443` → `fd00::1`).
pub fn endpoint_host(endpoint: &str) -> &str {
    endpoint_parts(endpoint).0
}

/// `addr:port` as an endpoint is written, with brackets around an IPv6 address: what
/// [`endpoint_parts`] reads back.
pub fn host_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// A proxy URL as curl and Go's `http.ProxyFromEnvironment` read `HTTP(S)_PROXY`:
/// `scheme://[user[:password]@]host[:port][/]`, scheme `http`, `https`, `socks5` or `socks5h`.
/// Whitespace, control characters (a NUL) and `'` are refused: the value is written into a
/// systemd EnvironmentFile that is also a shell file.
pub fn is_proxy_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https" | "socks5" | "socks5h") {
        return false;
    }
    if rest
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '\\'))
    {
        return false;
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(['/', '?', '#']) {
        return false;
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.starts_with('[') => {
            is_port(port) && is_host(host)
        }
        Some(_) => false,
        None => is_host(host_port),
    }
}

/// One `NO_PROXY` entry: `*`, a domain (`.example.com`, `example.com`), an IP address or CIDR,
/// optionally with `:port`, as curl and Go read them. The list is written comma-separated, so
/// an entry may not hold a comma, whitespace or control characters.
pub fn is_no_proxy_entry(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/' | '*' | '[' | ']')
        })
}

// What the JSON Schema (`netc schema`) can say about these syntaxes, from the same definitions
// the checks above use: `intent/model.rs` references these in `#[schemars(...)]` attributes.
// A pattern accepts everything its parser accepts (an editor never flags a value `check`
// takes); `check` may refuse more (host bits, an address's family, a name's byte length).
// The tests below hold each pattern to its parser; `tests/schema_validator.rs` runs a real
// JSON Schema validator and `check` on the same good and bad intents.

/// The only `apiVersion` this netc reads.
pub const API_VERSION: &str = "netc/v1alpha1";

/// The largest VXLAN network identifier (24 bits).
pub const MAX_VNI: u32 = (1 << 24) - 1;

/// The longest Linux interface name, in bytes (`IFNAMSIZ` 16 with its NUL, include/uapi/linux/if.h).
pub const MAX_INTERFACE_NAME: usize = 15;

/// [`is_interface_name`]: 1-15 characters, none of `/`, `:`, whitespace or NUL, not `.` or
/// `..` (the schema counts characters, the kernel and `check` bytes).
pub const INTERFACE_NAME_PATTERN: &str = r"^(?!\.\.?$)[^/:\s\x00]{1,15}$";

/// A port number as [`parse_port_range`] reads it (`u16` text, 1-65535: leading zeros and a
/// `+` are what Rust's integer parsing takes).
macro_rules! port_number {
    () => {
        r"\+?0*(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
    };
}

/// [`parse_port_range`]: `tcp/22`, `udp/30000-32767`, the protocol in any case (the order of
/// the two ends is `check`'s).
pub const PORT_RANGE_PATTERN: &str = concat!(
    r"^\s*(?:[Tt][Cc][Pp]|[Uu][Dd][Pp]|[Ss][Cc][Tt][Pp])/",
    port_number!(),
    "(?:-",
    port_number!(),
    r")?\s*$"
);

/// An IPv4 octet as ipnet's parser reads it (leading zeros taken).
macro_rules! octet {
    () => {
        r"0*(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    };
}

/// [`parse_network`] and [`parse_interface_address`]: an IPv4 address with a prefix of 0-32, or
/// something IPv6-shaped (hex digits, `:` and `.`) with a prefix of 0-128. Host bits and the
/// exact IPv6 grammar are `check`'s (`netc::cidr::invalid`).
pub const CIDR_PATTERN: &str = concat!(
    r"^\s*(?:",
    octet!(),
    r"(?:\.",
    octet!(),
    r"){3}/0*(?:3[0-2]|[12]?[0-9])",
    r"|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/0*(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])",
    r")\s*$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hosts_and_the_host_port_they_are_read_from() {
        assert_eq!(endpoint_host("10.0.1.100:6443"), "10.0.1.100");
        assert_eq!(endpoint_host("api.example.com"), "api.example.com");
        assert_eq!(endpoint_host("[fd00::1]:6443"), "fd00::1");
        assert_eq!(endpoint_host("fd00::1"), "fd00::1");
        for ip in ["10.0.1.100", "fd00::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            let written = host_port(ip, 9345);
            assert!(is_endpoint(&written), "{written}");
            assert_eq!(
                endpoint_parts(&written),
                (ip.to_string().as_str(), Some("9345"))
            );
        }
        assert_eq!(
            host_port("fd00::1".parse().unwrap(), 6443),
            "[fd00::1]:6443"
        );
    }

    #[test]
    fn endpoints_proxies_and_no_proxy_entries() {
        for ok in [
            "10.0.1.100:6443",
            "api.example.com",
            "[fd00::1]:6443",
            "fd00::1",
            "LB.corp:443",
        ] {
            assert!(is_endpoint(ok), "{ok}");
        }
        for bad in [
            "h:99999",
            "h:0",
            "a b:6443",
            "h:6443\nx",
            "",
            ":6443",
            "h:",
            "$(x):1",
        ] {
            assert!(!is_endpoint(bad), "{bad:?}");
        }
        for ok in [
            "http://proxy.corp:3128",
            "https://u:p@proxy:8080/",
            "socks5h://[fd00::1]:1080",
        ] {
            assert!(is_proxy_url(ok), "{ok}");
        }
        for bad in [
            "proxy:3128",
            "ftp://p:21",
            "http://p:3128\0x",
            "http://",
            "http://p q:1",
            "http://p/x",
        ] {
            assert!(!is_proxy_url(bad), "{bad:?}");
        }
        assert!(
            is_no_proxy_entry(".svc") && is_no_proxy_entry("10.0.0.0/8") && is_no_proxy_entry("*")
        );
        for bad in ["", "a b", "a,b", "x\0"] {
            assert!(!is_no_proxy_entry(bad), "{bad:?}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("24h0m0s"), Ok(86_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_go_duration("-1s"), Ok(-1_000_000_000));
        for bad in ["", "30", "1x", "s", "1..5s", "1h 30m", "-", "3d"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn networks_refuse_host_bits() {
        assert!(parse_network("10.244.0.0/16").is_ok());
        assert_eq!(
            parse_network("10.244.1.0/16"),
            Err(CidrError::HostBits {
                network: "10.244.0.0/16".parse().unwrap()
            })
        );
        assert_eq!(parse_network("10.244.0.0"), Err(CidrError::Syntax));
        assert!(parse_network("fd00:10:244::/56").is_ok());
    }

    #[test]
    fn ports() {
        assert_eq!(
            parse_port_range("udp/30000-32767"),
            Ok(PortRange::range(Protocol::Udp, 30000, 32767))
        );
        assert_eq!(
            parse_port_range("tcp/0"),
            Err(PortError::OutOfRange("0".into()))
        );
        assert!(matches!(
            parse_port_range("tcp/9-8"),
            Err(PortError::EndBeforeStart { .. })
        ));
        assert!(matches!(
            parse_policy_port("tcp/http"),
            Ok(PolicyPort::Named { .. })
        ));
        assert!(parse_policy_port("tcp/Bad--name").is_err());
    }

    #[test]
    fn versions() {
        let v = KubeVersion::parse("v1.31.2+rke2r1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 31, 2));
        assert!(KubeVersion::parse("latest").is_none());
    }

    #[test]
    fn names() {
        assert!(is_interface_name("eth0.100"));
        assert!(!is_interface_name("a-very-long-interface"));
        assert!(!is_interface_name(".."));
        assert!(is_dns1123_label("worker-1"));
        assert!(!is_dns1123_label("Worker_1"));
    }
}
