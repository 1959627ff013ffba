//! A desk asking its client's network's `Limiter` (deployment-wide, see `limiter_object.rs`):
//! whether a new visitor may be created, how many wrong admin credentials the address presented,
//! and that an address had a real conversation. A third `impl Desk`, split along this seam.

use worker::{Headers, Result};

use super::Desk;
use crate::limits::network::{Answer, Ask, Network};

/// Networks remembered as already trusted by this instance, at most (then forgotten at once).
const TRUSTED_HELD: usize = 4096;

impl Desk {
    /// The client's network, from `CF-Connecting-IP` (set by the edge; `None` only in local runs
    /// that send none, or a value that is not an address).
    pub(super) fn network(&self, headers: &Headers) -> Result<Option<Network>> {
        Ok(headers.get("CF-Connecting-IP")?.as_deref().and_then(Network::of))
    }

    async fn ask(&self, network: &Network, ask: &Ask) -> Result<Answer> {
        let namespace = self
            .limiter
            .as_ref()
            .ok_or_else(|| worker::Error::RustError("the LIMITER binding is missing (wrangler.toml)".into()))?;
        let stub = namespace.get_by_name(&network.object_name())?;
        let body = crate::protocol::json_text(ask).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let request = crate::outgoing::post("https://limiter/ask", None, Some(&body.into()))?;
        let mut answer = stub.fetch_with_request(request).await?;
        if answer.status_code() != 200 {
            return Err(worker::Error::RustError(format!("limiter answered {}", answer.status_code())));
        }
        Answer::read(&answer.text().await?)
            .map_err(|_| worker::Error::RustError("the limiter's answer is not one".into()))
    }

    /// Whether a new visitor may be created from `network`'s address now (`peek`: without
    /// taking a token). `Err(ms)`: refused, retry then.
    pub(super) async fn new_visitor_allowed(
        &self,
        network: &Network,
        peek: bool,
    ) -> Result<std::result::Result<(), u64>> {
        let answer = self.ask(network, &Ask::NewVisitor { address: network.address.clone(), peek }).await?;
        Ok(answer.retry_after_ms.map_or(Ok(()), Err))
    }

    /// Wrong admin credentials from the address in `period`, deployment-wide (one more if `add`).
    pub(super) async fn sign_in_failures(&self, network: &Network, period: i64, add: bool) -> Result<u32> {
        let answer = self.ask(network, &Ask::Failures { address: network.address.clone(), period, add }).await?;
        Ok(answer.failures)
    }

    /// Tells the network that this address had a real conversation, once per instance.
    pub(super) async fn trust(&self, network: &Network) {
        {
            let mut held = self.trusted.borrow_mut();
            if held.contains(&network.address) {
                return;
            }
            if held.len() >= TRUSTED_HELD {
                held.clear();
            }
            held.insert(network.address.clone());
        }
        // Best effort: a missed trust only leaves the address in the ordinary tier.
        if let Err(e) = self.ask(network, &Ask::Trust { address: network.address.clone() }).await {
            worker::console_error!("desk: the limiter did not take a trust: {e}");
        }
    }
}
