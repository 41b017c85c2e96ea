//! Outbound connections that cannot reach inside: the resolver of the webhook client. It
//! resolves a webhook's host at delivery time and refuses the delivery when any address
//! of the name is loopback, private, link-local, multicast, unspecified or an IPv4-mapped
//! form of those; the client then connects to exactly the addresses that were checked (no
//! second lookup for a rebinding name to change its answer). Redirects are not followed
//! (the client's policy), so a public host cannot bounce a delivery inside either.
//!
//! `[alerts] resolve` pins names to addresses ahead of DNS (the way `/etc/hosts` does),
//! which is also how the tests control what a name resolves to.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A delivery refused because its host resolves inside.
#[derive(Debug)]
pub struct PrivateTarget {
    /// The host of the webhook.
    pub host: String,
    /// The address that is not allowed.
    pub ip: IpAddr,
}

impl std::fmt::Display for PrivateTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {}, a loopback, private or link-local address: not delivered",
            self.host, self.ip
        )
    }
}

impl std::error::Error for PrivateTarget {}

/// Whether an error (or any of its causes) is a [`PrivateTarget`] refusal.
pub fn is_private_target(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if c.downcast_ref::<PrivateTarget>().is_some() {
            return true;
        }
        cur = c.source();
    }
    false
}

/// The checking resolver.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow_private: bool,
    pinned: Arc<BTreeMap<String, IpAddr>>,
}

impl GuardedResolver {
    /// A resolver that refuses inside addresses unless `allow_private`, with names pinned
    /// to addresses first.
    pub fn new(allow_private: bool, pinned: BTreeMap<String, IpAddr>) -> Self {
        GuardedResolver {
            allow_private,
            pinned: Arc::new(pinned),
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let this = self.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match this.pinned.get(&host) {
                Some(ip) => vec![SocketAddr::new(*ip, 0)],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !this.allow_private
                && let Some(bad) = addrs.iter().find(|a| crate::alerts::is_private_ip(a.ip()))
            {
                tracing::warn!(host, ip = %bad.ip(), "webhook host resolves inside; refused");
                return Err(Box::new(PrivateTarget { host, ip: bad.ip() })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    fn name(s: &str) -> reqwest::dns::Name {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn every_inside_address_of_a_name_is_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            let pinned = BTreeMap::from([("hook.example.org".to_string(), ip.parse().unwrap())]);
            let r = GuardedResolver::new(false, pinned.clone());
            let e = match r.resolve(name("hook.example.org")).await {
                Ok(_) => panic!("{ip} was let through"),
                Err(e) => e,
            };
            assert!(is_private_target(e.as_ref()), "{ip}: {e}");
            assert!(
                e.to_string().contains(ip.trim_start_matches("::ffff:"))
                    || e.to_string().contains(ip),
                "{e}"
            );
            // allowed on purpose (a test receiver on loopback)
            let r = GuardedResolver::new(true, pinned);
            assert!(r.resolve(name("hook.example.org")).await.is_ok(), "{ip}");
        }
        let pinned = BTreeMap::from([(
            "hook.example.org".to_string(),
            "93.184.216.34".parse().unwrap(),
        )]);
        let r = GuardedResolver::new(false, pinned);
        let addrs: Vec<SocketAddr> = r
            .resolve(name("HOOK.example.org."))
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["93.184.216.34:0".parse().unwrap()]);
    }
}
