//! Which proxy a request goes through, decided by one pure function of the target URL:
//! a `no_proxy` host goes straight; else an explicit proxy (`--proxy`) takes everything,
//! loopback included; else the environment's proxy for the URL's scheme (`http_proxy`,
//! `https_proxy`, then `all_proxy`), except for loopback hosts (127.0.0.0/8, ::1,
//! `localhost`), which a proxy meant for the outside world could not reach. The client asks
//! this module for each new connection; nothing else here talks to the network.

use crate::engine::config::{Proxies, ProxyChoice, ProxyUrl};
use crate::secret::redact_str;
use std::ffi::OsString;
use std::net::IpAddr;

/// The proxy decision of one engine, fixed when its clients are built.
#[derive(Debug, Clone)]
pub(super) struct Router {
    explicit: Option<ProxyChoice>,
    http: Option<ProxyUrl>,
    https: Option<ProxyUrl>,
    all: Option<ProxyUrl>,
    bypass: NoProxy,
}

impl Router {
    /// The router for `proxies`, reading the environment through `env` (an empty variable
    /// counts as unset). An environment proxy that cannot be used is ignored with a warning.
    pub fn new(proxies: &Proxies, env: &dyn Fn(&str) -> Option<OsString>) -> Router {
        let var = |names: &[&str]| {
            names.iter().find_map(|name| {
                let value = env(name).filter(|v| !v.is_empty())?;
                Some((name.to_string(), value.to_string_lossy().into_owned()))
            })
        };
        let from_env = |names: &[&str]| {
            let (name, text) = var(names)?;
            match ProxyUrl::parse_choice(&text) {
                Ok(ProxyChoice::Via(url)) => Some(url),
                Ok(ProxyChoice::Direct) => None,
                Err(e) => {
                    tracing::warn!("{name} is ignored: {}", redact_str(&e));
                    None
                }
            }
        };
        let environment = proxies.proxy.is_none();
        // HTTP_PROXY may come from a request header under CGI ("httpoxy"): only the lower-case
        // form counts there, as for curl.
        let cgi = env("REQUEST_METHOD").is_some();
        let http_names: &[&str] = if cgi {
            &["http_proxy"]
        } else {
            &["http_proxy", "HTTP_PROXY"]
        };
        let bypass = match &proxies.no_proxy {
            Some(list) => list.clone(),
            None => var(&["no_proxy", "NO_PROXY"])
                .map(|(_, v)| v)
                .unwrap_or_default(),
        };
        Router {
            explicit: proxies.proxy.clone(),
            http: environment.then(|| from_env(http_names)).flatten(),
            https: environment
                .then(|| from_env(&["https_proxy", "HTTPS_PROXY"]))
                .flatten(),
            all: environment
                .then(|| from_env(&["all_proxy", "ALL_PROXY"]))
                .flatten(),
            bypass: NoProxy::parse(&bypass),
        }
    }

    /// The proxy for a request to `target`, or `None` to connect straight to it.
    pub fn route(&self, target: &url::Url) -> Option<&url::Url> {
        let host = target.host()?;
        if self.bypass.covers(&host) {
            return None;
        }
        let proxy = match &self.explicit {
            Some(ProxyChoice::Direct) => return None,
            Some(ProxyChoice::Via(proxy)) => proxy,
            None if is_loopback(&host) => return None,
            None => match target.scheme() {
                "http" => self.http.as_ref().or(self.all.as_ref())?,
                "https" => self.https.as_ref().or(self.all.as_ref())?,
                _ => self.all.as_ref()?,
            },
        };
        Some(proxy.expose())
    }

    /// The client-side hook: reqwest asks it for every new connection.
    pub fn into_reqwest(self) -> reqwest::Proxy {
        reqwest::Proxy::custom(move |target| self.route(target).cloned())
    }
}

/// Whether `host` is this machine's loopback: 127.0.0.0/8, ::1 (or ::ffff:127.x), or
/// `localhost` and its subdomains (RFC 6761).
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// A no-proxy list (curl's `--noproxy`, `NO_PROXY`): comma-separated entries, each a host
/// name (covering its subdomains too; a leading `.` or `*.` changes nothing), an IP address,
/// or an IP block in CIDR form; `*` alone covers every host.
#[derive(Debug, Clone, Default)]
struct NoProxy {
    all: bool,
    domains: Vec<String>,
    blocks: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    fn parse(list: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
                continue;
            }
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            let (ip, bits) = match bare.split_once('/') {
                Some((ip, bits)) => (ip, bits.parse::<u8>().ok()),
                None => (bare, None),
            };
            if let Ok(ip) = ip.parse::<IpAddr>() {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                out.blocks.push((ip, bits.unwrap_or(max).min(max)));
                continue;
            }
            let domain = entry.trim_start_matches("*.").trim_start_matches('.');
            out.domains
                .push(domain.trim_end_matches('.').to_ascii_lowercase());
        }
        out
    }

    fn covers(&self, host: &url::Host<&str>) -> bool {
        if self.all {
            return true;
        }
        match host {
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                self.domains.iter().any(|d| {
                    name == *d
                        || (name.len() > d.len()
                            && name.ends_with(d.as_str())
                            && name.as_bytes()[name.len() - d.len() - 1] == b'.')
                })
            }
            url::Host::Ipv4(ip) => self.in_block(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.in_block(IpAddr::V6(*ip)),
        }
    }

    fn in_block(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix(&net.octets(), &ip.octets(), *bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix(&net.octets(), &ip.octets(), *bits),
            _ => false,
        })
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = ((bits / 8) as usize, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(proxy: Option<&str>, no_proxy: Option<&str>, vars: &[(&str, &str)]) -> Router {
        let proxies = Proxies {
            proxy: proxy.map(|p| ProxyUrl::parse_choice(p).unwrap()),
            no_proxy: no_proxy.map(str::to_string),
        };
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        Router::new(&proxies, &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn via(router: &Router, target: &str) -> Option<String> {
        router
            .route(&url::Url::parse(target).unwrap())
            .map(|u| u.host_str().unwrap_or_default().to_string())
    }

    #[test]
    fn the_environment_never_proxies_loopback() {
        let env = [
            ("http_proxy", "http://p.test:3128"),
            ("HTTPS_PROXY", "s.test:1"),
        ];
        let r = router(None, None, &env);
        assert_eq!(via(&r, "http://files.test/a"), Some("p.test".into()));
        assert_eq!(via(&r, "https://files.test/a"), Some("s.test".into()));
        for target in [
            "http://127.0.0.1:8/a",
            "http://127.9.9.9/a",
            "http://[::1]:8/a",
            "http://localhost/a",
            "http://LOCALHOST./a",
            "http://a.localhost/",
        ] {
            assert_eq!(via(&r, target), None, "{target}");
        }
    }

    #[test]
    fn an_explicit_proxy_beats_the_environment_and_takes_loopback_too() {
        let env = [("http_proxy", "http://p.test:3128"), ("NO_PROXY", "*")];
        let r = router(Some("http://u:pw@x.test:8080"), Some(""), &env);
        assert_eq!(via(&r, "http://files.test/a"), Some("x.test".into()));
        assert_eq!(via(&r, "http://127.0.0.1/a"), Some("x.test".into()));
        let direct = router(Some(""), None, &env);
        assert_eq!(via(&direct, "http://files.test/a"), None);
        let env_no_proxy = router(Some("x.test:1"), None, &env);
        assert_eq!(
            via(&env_no_proxy, "http://files.test/a"),
            None,
            "NO_PROXY=*"
        );
    }

    #[test]
    fn no_proxy_lists_cover_domains_addresses_and_blocks() {
        let r = router(
            Some("x.test:1"),
            Some("files.test, .corp.test,10.0.0.0/8,[::2], 192.168.1.5"),
            &[],
        );
        for (target, bypass) in [
            ("http://files.test/", true),
            ("http://a.files.test/", true),
            ("http://notfiles.test/", false),
            ("http://corp.test/", true),
            ("http://x.corp.test/", true),
            ("http://10.2.3.4/", true),
            ("http://11.2.3.4/", false),
            ("http://[::2]/", true),
            ("http://192.168.1.5/", true),
            ("http://192.168.1.6/", false),
        ] {
            assert_eq!(via(&r, target).is_none(), bypass, "{target}");
        }
    }

    #[test]
    fn unusable_environment_proxies_are_ignored() {
        let r = router(None, None, &[("all_proxy", "socks5://s.test:1080")]);
        assert_eq!(via(&r, "http://files.test/a"), None);
        let r = router(None, None, &[("ALL_PROXY", "a.test:1")]);
        assert_eq!(via(&r, "https://files.test/a"), Some("a.test".into()));
    }
}
