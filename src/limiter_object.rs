//! The `Limiter` Durable Object: one per network (`idFromName("net:" + network)`, an IPv4 /24 or
//! an IPv6 /48), shared by every desk of the deployment. It keeps the new-visitor buckets of the
//! network and of each of its addresses, the addresses' trusted tier and their failed sign-ins
//! in SQLite, and answers a desk's [`Ask`] with the pure decisions of `limits::network`.
//!
//! Desks reach it only through its binding (no route of the Worker leads here), and only for
//! what is rare: creating a visitor, a sign-in, a visitor of a real conversation coming back.
//! Messages never touch it. Addresses are stored hashed.

use std::cell::Cell;

use worker::{Date, Env, Request, Response, Result, SqlStorage, SqlStorageValue as V, State};

use crate::auth::token_hash;
use crate::limits::network::{admit_new_visitor, Answer, Ask, Standing, TRUST_MS};
use crate::limits::{Bucket, Limits, Rate};
use crate::object_class::hand_exported_object;
use crate::store::row::{first, rows};

/// The key of the network's own bucket (address keys are SHA-256 hex, never this).
const NETWORK_KEY: &str = "network";

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS buckets (
        key TEXT PRIMARY KEY,
        tokens REAL NOT NULL,
        at INTEGER NOT NULL,
        trusted_until INTEGER NOT NULL DEFAULT 0
     ) WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS failures (
        key TEXT NOT NULL,
        period INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (key, period)
     ) WITHOUT ROWID;";

/// The object's state; the class the runtime instantiates is [`class::Limiter`].
pub struct Limiter {
    state: State,
    limits: Limits,
    schema_checked: Cell<bool>,
}

impl Limiter {
    fn new(state: State, env: Env) -> Self {
        let limits = Limits::from_vars(|key| env.var(key).ok().map(|v| v.to_string()));
        Limiter { state, limits, schema_checked: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let Some(ask) = Ask::from_json(&body) else {
            return Response::error("not an ask", 400);
        };
        let now = Date::now().as_millis() as i64;
        let answer = match ask {
            Ask::NewVisitor { address, peek } => {
                Answer { retry_after_ms: self.new_visitor(&token_hash(&address), now, !peek)?.err(), failures: 0 }
            }
            Ask::Trust { address } => {
                self.trust(&token_hash(&address), now)?;
                Answer { retry_after_ms: None, failures: 0 }
            }
            Ask::Failures { address, period, add } => {
                Answer { retry_after_ms: None, failures: self.failures(&token_hash(&address), period, add)? }
            }
        };
        crate::router::json_response(&answer)
    }
}

hand_exported_object!(Limiter);

impl Limiter {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_checked.get() {
            sql.exec(SCHEMA, None)?;
            self.schema_checked.set(true);
        }
        Ok(sql)
    }

    /// Decides a new visitor from the address hashed as `key`; stores the buckets when a token
    /// was taken (a refusal or a peek writes nothing).
    fn new_visitor(&self, key: &str, now: i64, take: bool) -> Result<std::result::Result<(), u64>> {
        let limits = &self.limits.new_visitors;
        let sql = self.sql()?;
        // (key, tokens, at, trusted_until) of each stored bucket.
        let buckets: Vec<(String, f64, i64, i64)> = rows(sql.exec(
            "SELECT key, tokens, at, trusted_until FROM buckets WHERE key IN (?, ?)",
            vec![V::String(key.to_owned()), V::String(NETWORK_KEY.to_owned())],
        )?)?
        .into_iter()
        .map(|mut r| (r.str(0), r.float(1), r.int(2), r.int(3)))
        .collect();
        let stored = |k: &str, rate: Rate| {
            buckets.iter().find(|r| r.0 == k).map_or(Bucket::full(rate, now), |r| Bucket::stored(r.1, r.2))
        };
        let trusted_until = buckets.iter().find(|r| r.0 == key).map_or(0, |r| r.3);
        let address_rate = if trusted_until > now { limits.trusted } else { limits.address };
        let mut standing = Standing {
            address: stored(key, address_rate),
            network: stored(NETWORK_KEY, limits.network),
            trusted_until,
        };
        let decided = admit_new_visitor(&mut standing, limits, now, take);
        if take && decided.is_ok() {
            for (k, bucket) in [(key, standing.address), (NETWORK_KEY, standing.network)] {
                let (tokens, at) = bucket.parts();
                sql.exec(
                    "INSERT INTO buckets (key, tokens, at) VALUES (?, ?, ?)
                     ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                    vec![V::String(k.to_owned()), V::Float(tokens), V::Integer(at)],
                )?;
            }
            self.forget_full(&sql, now)?;
        }
        Ok(decided)
    }

    /// Forgets buckets that are full again and not trusted (a new one starts full), so the table
    /// holds the addresses active lately, not every address ever seen.
    fn forget_full(&self, sql: &SqlStorage, now: i64) -> Result<()> {
        let n = &self.limits.new_visitors;
        let refill_ms =
            [n.address, n.network, n.trusted].iter().map(|r| r.burst / r.per_sec * 1000.0).fold(0.0, f64::max);
        let before = now - refill_ms.ceil() as i64;
        sql.exec("DELETE FROM buckets WHERE at < ? AND trusted_until < ?", vec![V::Integer(before), V::Integer(now)])?;
        Ok(())
    }

    /// Puts the address in the higher tier for `TRUST_MS`.
    fn trust(&self, key: &str, now: i64) -> Result<()> {
        let burst = self.limits.new_visitors.address.burst;
        self.sql()?.exec(
            "INSERT INTO buckets (key, tokens, at, trusted_until) VALUES (?, ?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET trusted_until = excluded.trusted_until",
            vec![V::String(key.to_owned()), V::Float(burst), V::Integer(now), V::Integer(now + TRUST_MS)],
        )?;
        Ok(())
    }

    /// Failed sign-ins of the address in `period`, one more counted first if `add`; older
    /// periods are forgotten.
    fn failures(&self, key: &str, period: i64, add: bool) -> Result<u32> {
        let sql = self.sql()?;
        if add {
            sql.exec("DELETE FROM failures WHERE period < ?", vec![V::Integer(period)])?;
            sql.exec(
                "INSERT INTO failures (key, period, count) VALUES (?, ?, 1)
                 ON CONFLICT(key, period) DO UPDATE SET count = count + 1",
                vec![V::String(key.to_owned()), V::Integer(period)],
            )?;
        }
        let row = first(sql.exec(
            "SELECT count FROM failures WHERE key = ? AND period = ?",
            vec![V::String(key.to_owned()), V::Integer(period)],
        )?)?;
        Ok(row.map_or(0, |r| r.count(0)))
    }
}
