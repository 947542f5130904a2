//! The source-address allowlist, with `X-Forwarded-For` believed only from trusted proxies.

use std::net::IpAddr;

use hookspec_core::IpRange;
use http::HeaderMap;
use ipnet::IpNet;

use super::error::VerifyError;

const FORWARDED_FOR: &str = "x-forwarded-for";

#[derive(Debug)]
pub(crate) struct SourcePolicy {
    allowed: Vec<IpNet>,
    trusted_proxies: Vec<IpNet>,
}

impl SourcePolicy {
    /// `None` when nothing is to be checked (off, or no address listed anywhere).
    pub(crate) fn new(
        spec_ips: &[IpRange],
        extra: &[IpNet],
        trusted_proxies: &[IpNet],
    ) -> Option<Self> {
        let allowed: Vec<IpNet> = spec_ips
            .iter()
            // The loader checked the prefix; a range it could not build allows one address.
            .map(|r| IpNet::new(r.addr, r.prefix).unwrap_or(IpNet::from(r.addr)))
            .chain(extra.iter().copied())
            .collect();
        (!allowed.is_empty()).then(|| SourcePolicy {
            allowed,
            trusted_proxies: trusted_proxies.to_vec(),
        })
    }

    /// Whether the client behind `peer` may deliver.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<(), VerifyError> {
        let Some(peer) = peer else {
            return Ok(());
        };
        let client = self.client(headers, peer.to_canonical())?;
        if self.allowed.iter().any(|net| net.contains(&client)) {
            Ok(())
        } else {
            Err(VerifyError::SourceNotAllowed { ip: client })
        }
    }

    fn trusted(&self, ip: &IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// The client address: the peer, unless the peer is a trusted proxy; then the
    /// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries to
    /// its left were written by the client and prove nothing).
    fn client(&self, headers: &HeaderMap, peer: IpAddr) -> Result<IpAddr, VerifyError> {
        if !self.trusted(&peer) {
            return Ok(peer);
        }
        let mut client = peer;
        // Several header lines count as one list, in order.
        let lines: Vec<&http::HeaderValue> = headers.get_all(FORWARDED_FOR).iter().collect();
        for line in lines.into_iter().rev() {
            let text = line.to_str().map_err(|_| malformed("not ASCII"))?;
            for entry in text.rsplit(',') {
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                let ip = entry
                    .parse::<IpAddr>()
                    .map_err(|_| malformed("an entry is not an IP address"))?
                    .to_canonical();
                client = ip;
                if !self.trusted(&ip) {
                    return Ok(ip);
                }
            }
        }
        Ok(client)
    }
}

fn malformed(reason: &'static str) -> VerifyError {
    VerifyError::MalformedHeader {
        header: FORWARDED_FOR,
        reason,
    }
}
