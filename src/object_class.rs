//! The class the runtime instantiates for a Durable Object that only answers `fetch` (the
//! `Limiter`, the `Directory`), exported by hand.
//!
//! Why not `#[durable_object]`: it exports every handler a class may have (`alarm`, `connect`
//! and the three socket events) whether or not the object implements them, each an async
//! wrapper of its own (a promise, a task, the default body): ~8 KB of wasm per object for
//! handlers these two never get. The runtime calls only the methods a class has.

/// `hand_exported_object!(Limiter)`, beside a `Limiter` with `fn new(State, Env) -> Self` and
/// `async fn fetch(&self, Request) -> Result<Response>`: a `class` module holding the exported
/// class of the same name, which builds one and hands it each request.
// rustfmt indents the attribute below further on every run inside a macro: left as written.
#[rustfmt::skip]
macro_rules! hand_exported_object {
    ($object:ident) => {
        mod class {
            use std::rc::Rc;

            use worker::wasm_bindgen::prelude::*;
            use worker::wasm_bindgen_futures::future_to_promise;
            use worker::worker_sys::{web_sys, DurableObjectState};
            use worker::{Env, Request, State};

            #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
            pub struct $object {
                object: Rc<super::$object>,
            }

            #[wasm_bindgen(
                wasm_bindgen = ::worker::wasm_bindgen,
                wasm_bindgen_futures = ::worker::wasm_bindgen_futures,
                js_sys = ::worker::js_sys
            )]
            impl $object {
                #[wasm_bindgen(constructor)]
                pub fn new(state: DurableObjectState, env: Env) -> $object {
                    $object { object: Rc::new(super::$object::new(State::from(state), env)) }
                }

                #[wasm_bindgen(js_name = fetch)]
                pub fn fetch(&self, req: web_sys::Request) -> JsValue {
                    let object = self.object.clone();
                    future_to_promise(async move {
                        let response = object.fetch(Request::from(req)).await.map_err(JsValue::from)?;
                        Ok(web_sys::Response::from(response).into())
                    })
                    .into()
                }
            }
        }
    };
}
pub(crate) use hand_exported_object;
