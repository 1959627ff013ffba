//! Moving the alarm earlier after a socket event: the only thing a socket event awaits.
//! The socket events themselves are exported in `object.rs`.

use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{Result, Storage};

use super::{now, Desk};

impl Desk {
    /// A promise that moves the alarm by the earliest of `wake` and a visitor's email follow-up
    /// (`mail_wake`), or undefined when neither asks.
    pub(super) fn wake_promise(&self, mut wake: Vec<i64>) -> JsValue {
        wake.extend(self.mail_wake.take());
        if wake.is_empty() {
            return JsValue::UNDEFINED;
        }
        let storage = self.state.storage();
        let moved =
            async move { wake_by(storage, wake, now()).await.map(|_| JsValue::UNDEFINED).map_err(JsValue::from) };
        future_to_promise(moved).into()
    }
}

/// Makes sure the alarm fires by the earliest of `times` (a snooze ending).
pub(super) async fn wake_by(storage: Storage, times: Vec<i64>, now: i64) -> Result<()> {
    let Some(at) = times.into_iter().min() else {
        return Ok(());
    };
    if storage.get_alarm().await?.is_none_or(|current| current > at) {
        storage.set_alarm((at - now).max(1)).await?;
    }
    Ok(())
}
