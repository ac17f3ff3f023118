//! Refusing private networks: a registry URL (or a redirect) must not make the fetcher reach
//! into the network it runs in (cloud metadata at 169.254.169.254, loopback services, the VPC).
//! Host names are checked by the resolver itself, so the addresses checked are the addresses
//! connected to (no window for DNS rebinding); IP literals never reach a resolver and are
//! checked before the request.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is one the public internet can route to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let this_network = a == 0; // 0.0.0.0/8, including the unspecified address
    let shared_cgnat = a == 100 && (64..128).contains(&b); // 100.64.0.0/10
    let protocol_assignments = a == 192 && b == 0 && c == 0; // 192.0.0.0/24
    let benchmarking = a == 198 && (b & 0xfe) == 18; // 198.18.0.0/15
    let reserved = a >= 240; // 240.0.0.0/4 (and the broadcast address)
    !(this_network
        || shared_cgnat
        || protocol_assignments
        || benchmarking
        || reserved
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation())
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let first = segments[0];
    let unique_local = (first & 0xfe00) == 0xfc00; // fc00::/7
    let link_local = (first & 0xffc0) == 0xfe80; // fe80::/10
    let documentation = first == 0x2001 && segments[1] == 0x0db8; // 2001:db8::/32
    // Addresses that carry an IPv4 address reach it: judge that one.
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    let nat64 = first == 0x0064 && segments[1] == 0xff9b && segments[2..6] == [0; 4]; // 64:ff9b::/96
    // The deprecated IPv4-compatible form ::a.b.c.d (:: and ::1 are judged below).
    let v4_compatible = segments[..6] == [0; 6] && segments[6] != 0;
    if nat64 || v4_compatible {
        return is_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if first == 0x2002 {
        // 6to4: 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
        return is_public_v4(embedded_v4(segments[1], segments[2]));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation)
}

/// Why the resolver refused a name; found again in reqwest's error chain.
#[derive(Debug)]
pub(crate) struct BlockedAddress {
    pub host: String,
    pub addr: IpAddr,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolves to the non-public address {}",
            self.host, self.addr
        )
    }
}

impl std::error::Error for BlockedAddress {}

/// The system resolver, refusing names with any non-public address not in `allowed`.
pub(crate) struct PublicOnlyResolver {
    pub allowed: std::sync::Arc<[IpAddr]>,
    /// Names answered without DNS (`FetchPolicy::static_hosts`), checked all the same.
    pub static_hosts: std::sync::Arc<std::collections::BTreeMap<String, Vec<IpAddr>>>,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allowed.clone();
        let pinned = self.static_hosts.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match pinned {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            // Any private address refuses the name: a mixed answer is as suspect as a private one.
            let refused = |a: &&SocketAddr| !is_public(a.ip()) && !allowed.contains(&a.ip());
            if let Some(bad) = addrs.iter().find(refused) {
                return Err(Box::new(BlockedAddress {
                    host,
                    addr: bad.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Finds a `BlockedAddress` anywhere in an error's source chain.
pub(crate) fn blocked_in<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a BlockedAddress> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(b) = e.downcast_ref::<BlockedAddress>() {
            return Some(b);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in [
            "203.217.1.1",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }
}
