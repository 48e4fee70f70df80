//! Per-node pod subnets: pins first, then the lowest free subnet in node order.

use ipnet::IpNet;

use super::NodePlan;
use crate::intent::NetworkIntent;
use crate::intent::values;

/// A network as an inclusive range of integers (IPv4 widened), for ordering and overlap.
pub(crate) fn bounds(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// The `k`th subnet of prefix length `mask` inside `parent`, if there is one.
pub(crate) fn nth_subnet(parent: &IpNet, mask: u8, k: u128) -> Option<IpNet> {
    if mask < parent.prefix_len() || mask > parent.max_prefix_len() {
        return None;
    }
    let bits = u32::from(mask - parent.prefix_len());
    if bits < 128 && k >= (1u128 << bits) {
        return None;
    }
    let host_bits = u32::from(parent.max_prefix_len() - mask);
    let step = 1u128.checked_shl(host_bits)?;
    let start = bounds(parent).0.checked_add(k.checked_mul(step)?)?;
    let addr = match parent {
        IpNet::V4(_) => std::net::IpAddr::V4(u32::try_from(start).ok()?.into()),
        IpNet::V6(_) => std::net::IpAddr::V6(start.into()),
    };
    IpNet::new(addr, mask).ok()
}

/// How many subnets of `mask` fit in `parent` (saturating).
pub fn capacity(parent: &IpNet, mask: u8) -> u128 {
    if mask < parent.prefix_len() || mask > parent.max_prefix_len() {
        return 0;
    }
    let bits = u32::from(mask - parent.prefix_len());
    1u128.checked_shl(bits).unwrap_or(u128::MAX)
}

/// Pinned ranges sorted by start, with the running maximum of their ends (pins may overlap
/// each other; validation reports that), so one binary search answers "does this overlap a pin".
struct Pins {
    starts: Vec<u128>,
    max_end: Vec<u128>,
}

impl Pins {
    fn new(mut ranges: Vec<(u128, u128)>) -> Self {
        ranges.sort_unstable();
        let mut max = 0;
        let max_end = ranges
            .iter()
            .map(|&(_, e)| {
                max = max.max(e);
                max
            })
            .collect();
        Self {
            starts: ranges.into_iter().map(|(s, _)| s).collect(),
            max_end,
        }
    }

    fn overlaps(&self, (start, end): (u128, u128)) -> bool {
        let before_end = self.starts.partition_point(|&s| s <= end);
        before_end > 0
            && self
                .max_end
                .get(before_end - 1)
                .is_some_and(|&e| e >= start)
    }
}

pub(super) fn allocate(
    intent: &NetworkIntent,
    pod_cidrs: &[IpNet],
    mask_v4: u8,
    mask_v6: u8,
    nodes: &mut [NodePlan],
) {
    let pins: Vec<Option<IpNet>> = intent
        .nodes
        .iter()
        .map(|n| {
            n.pod_cidr
                .as_ref()
                .and_then(|p| values::parse_network(p).ok())
        })
        .collect();
    for parent in pod_cidrs {
        let mask = match parent {
            IpNet::V4(_) => mask_v4,
            IpNet::V6(_) => mask_v6,
        };
        let same_family = |p: &IpNet| std::mem::discriminant(p) == std::mem::discriminant(parent);
        let pinned = Pins::new(
            pins.iter()
                .flatten()
                .filter(|p| same_family(p) && parent.contains(*p))
                .map(bounds)
                .collect(),
        );
        let mut k: u128 = 0;
        for (node, pin) in nodes.iter_mut().zip(&pins) {
            if let Some(pin) = pin.filter(|p| same_family(p)) {
                node.pod_cidrs.push(pin);
                continue;
            }
            // Stops when the parent has no room left: validation reports pod-capacity.
            while let Some(candidate) = nth_subnet(parent, mask, k) {
                k += 1;
                if !pinned.overlaps(bounds(&candidate)) {
                    node.pod_cidrs.push(candidate);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn nth_subnet_walks_the_parent() {
        let p = net("10.244.0.0/16");
        assert_eq!(nth_subnet(&p, 24, 0), Some(net("10.244.0.0/24")));
        assert_eq!(nth_subnet(&p, 24, 255), Some(net("10.244.255.0/24")));
        assert_eq!(nth_subnet(&p, 24, 256), None);
        assert_eq!(nth_subnet(&p, 15, 0), None);
        assert_eq!(capacity(&p, 24), 256);
        let v6 = net("fd00:10:244::/56");
        assert_eq!(nth_subnet(&v6, 64, 1), Some(net("fd00:10:244:1::/64")));
    }

    #[test]
    fn pins_detect_overlap_on_both_sides() {
        let pins = Pins::new(vec![(40, 49), (10, 19), (12, 13)]);
        assert!(pins.overlaps((15, 25)));
        assert!(pins.overlaps((0, 10)));
        assert!(pins.overlaps((0, 100)));
        assert!(!pins.overlaps((20, 39)));
        assert!(!pins.overlaps((50, 60)));
    }
}
