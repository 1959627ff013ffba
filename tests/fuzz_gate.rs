//! Property tests of what guards the door: identity claims, the origins setting and the rate
//! buckets take any input without a panic, and never let through what they should not.

use proptest::prelude::*;
use support_desk::identity::{claim, desk_key, user_hash, verify, Claim};
use support_desk::limits::{Bucket, Limits, Rate};
use support_desk::routes::AllowedOrigins;

const SECRET: &str = "proptest-identity-secret";
const DESK: &str = "acme";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_subprotocol_header_is_read_without_panic(header in ".{0,300}", id in "[ -~]{0,40}", hash in "[0-9a-fA-F.+-]{0,70}") {
        let _ = claim(Some(&header));
        let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
        let _ = claim(Some(&format!("support-desk.v1, support-desk.identity.{hex}.{hash}")));
    }

    #[test]
    fn only_the_right_hash_verifies(id in "[ -~]{1,40}", other in "[ -~]{1,40}", hash in "[0-9a-f]{0,64}") {
        let key = desk_key(SECRET, DESK).unwrap_or_default();
        let right = user_hash(&key, &id).unwrap_or_default();
        prop_assert_eq!(verify(Claim { user_id: id.clone(), hash: Some(right.clone()) }, Some(SECRET), DESK), Ok(id.clone()));
        let elsewhere = Claim { user_id: id.clone(), hash: Some(right.clone()) };
        prop_assert!(verify(elsewhere, Some(SECRET), "another-desk").is_err(), "a hash is for one desk only");
        if hash != right {
            let wrong = Claim { user_id: id.clone(), hash: Some(hash) };
            prop_assert!(verify(wrong, Some(SECRET), DESK).is_err(), "a wrong hash verified");
        }
        if other != id {
            let borrowed = Claim { user_id: other, hash: Some(right) };
            prop_assert!(verify(borrowed, Some(SECRET), DESK).is_err(), "a hash is for one id only");
        }
    }

    #[test]
    fn origins_setting_and_check_take_anything(setting in ".{0,200}", origin in ".{0,80}", authority in "[a-z0-9.:]{0,30}") {
        let allowed = AllowedOrigins::from_setting(Some(&setting));
        let own = format!("https://{authority}");
        let _ = allowed.allows(&origin, &own);
        // With no setting, only the desk's own origin (scheme, host and port) passes.
        let closed = AllowedOrigins::from_setting(None);
        if closed.allows(&origin, &own) {
            prop_assert_eq!(origin.to_ascii_lowercase(), own.to_ascii_lowercase());
        }
    }

    #[test]
    fn a_bucket_never_passes_more_than_burst_plus_refill(
        per_sec in 0.01f64..1000.0, burst in 1.0f64..500.0, steps in prop::collection::vec(-5_000i64..5_000, 1..300),
    ) {
        let rate = Rate { per_sec, burst };
        let mut bucket = Bucket::full(rate, 0);
        let (mut now, mut latest, mut passed) = (0i64, 0i64, 0u64);
        for step in steps {
            now += step; // the clock may step back
            latest = latest.max(now);
            if bucket.take(rate, now).is_ok() { passed += 1; }
        }
        let most = burst + (latest as f64) * per_sec / 1000.0;
        prop_assert!(passed as f64 <= most + 1e-6, "passed {} > {}", passed, most);
    }

    #[test]
    fn limits_read_any_variables_without_panic(v in ".{0,20}") {
        let l = Limits::from_vars(|_| Some(v.clone()));
        prop_assert!(l.visitor.per_sec > 0.0 && l.visitor.burst >= 1.0 && l.sockets_per_visitor >= 1);
    }
}
