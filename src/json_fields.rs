//! Small JSON objects read by hand on cold paths: one shared reader instead of a serde derive per
//! type (each derived `Deserialize` was 1.5-3.5 KB of wasm code: its own `deserialize_struct`).
//!
//! What the derives refused is refused here too: a text that is not JSON, a required field that
//! is missing or of the wrong type, a known field given twice (serde's "duplicate field"), an
//! integer that is a fraction or out of `i64`'s range. Unknown fields are ignored, as the derives
//! did (none of these types denied them), and `null` reads as absent for an optional field. A
//! struct's reader also takes a JSON array, its fields by position, as the derives did (the
//! hostile corpus sends `["garbage"]` for `{"token": …}`): [`Fields::parse_struct`] with the
//! struct's [`Schema`].
//!
//! [`unit_variant`] (with the [`unit_enum`] macro) reads the wire's unit-only enums (`view`,
//! `role`, `status`, days, webhook events…) through one visitor shared by all of them, with
//! serde's own errors, word for word: a derive gave each enum its own ~1.1 KB of code.

use serde::de::{Deserialize, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor};
use serde_json::Value;

/// A JSON object's members in order, duplicates kept (so a reader can refuse a known field given
/// twice). Readers take fields out by name; what is left over is ignored.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, Value)>);

/// A struct's fields in declaration order, as a derive read them from an array: each name, and
/// whether it may be left out at the end (`#[serde(default)]`; an `Option` without it may not).
pub type Schema = [(&'static str, bool)];

/// What the text held: an object's members, or an array's items.
enum Read {
    Members(Fields),
    Items(Vec<Value>),
}

/// Why a JSON text is not the object a reader wants. Every caller answers it with a fixed refusal
/// of its own (the derives' messages were never shown), so it carries nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl Fields {
    /// A JSON text that must be an object.
    pub fn parse(text: &str) -> Result<Fields, Refused> {
        match Read::text(text)? {
            Read::Members(fields) => Ok(fields),
            Read::Items(_) => Err(Refused),
        }
    }

    /// A JSON text holding the struct `schema` describes: an object, or an array of its fields.
    pub fn parse_struct(text: &str, schema: &Schema) -> Result<Fields, Refused> {
        match Read::text(text)? {
            Read::Members(fields) => Ok(fields),
            Read::Items(items) => Fields::positional(items, schema),
        }
    }

    /// A value already read holding the struct `schema` describes (a `Value`'s map holds each
    /// key once).
    pub fn of_struct(value: Value, schema: &Schema) -> Result<Fields, Refused> {
        match value {
            Value::Object(map) => Ok(Fields(map.into_iter().collect())),
            Value::Array(items) => Fields::positional(items, schema),
            _ => Err(Refused),
        }
    }

    /// An array's items as the fields they stand for: no more items than fields, and every field
    /// past the last item one that may be left out.
    fn positional(items: Vec<Value>, schema: &Schema) -> Result<Fields, Refused> {
        if items.len() > schema.len() || schema[items.len()..].iter().any(|(_, may_lack)| !may_lack) {
            return Err(Refused);
        }
        Ok(Fields(schema.iter().map(|(name, _)| (*name).to_owned()).zip(items).collect()))
    }

    /// Whether the object has no member left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The field's value, taken out; `None` when absent. Given twice: refused.
    pub fn take(&mut self, name: &str) -> Result<Option<Value>, Refused> {
        let mut found = self.0.iter().enumerate().filter(|(_, (k, _))| k == name).map(|(i, _)| i);
        let (first, second) = (found.next(), found.next());
        match (first, second) {
            (_, Some(_)) => Err(Refused),
            (Some(i), None) => Ok(Some(self.0.swap_remove(i).1)),
            (None, None) => Ok(None),
        }
    }

    /// An optional field: absent or `null` is `None`.
    pub fn opt(&mut self, name: &str) -> Result<Option<Value>, Refused> {
        Ok(self.take(name)?.filter(|v| !v.is_null()))
    }

    /// A required string.
    pub fn str(&mut self, name: &str) -> Result<String, Refused> {
        self.opt_str(name)?.ok_or(Refused)
    }

    /// An optional string.
    pub fn opt_str(&mut self, name: &str) -> Result<Option<String>, Refused> {
        match self.opt(name)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Refused),
        }
    }

    /// An optional field read by `get`: absent or `null` is `None`; a value `get` refuses is refused.
    fn opt_as<T>(&mut self, name: &str, get: fn(&Value) -> Option<T>) -> Result<Option<T>, Refused> {
        self.opt(name)?.map(|v| get(&v).ok_or(Refused)).transpose()
    }

    /// A required integer in `i64`'s range (no fraction, as serde's `i64`).
    pub fn i64(&mut self, name: &str) -> Result<i64, Refused> {
        self.opt_i64(name)?.ok_or(Refused)
    }

    /// An optional integer in `i64`'s range.
    pub fn opt_i64(&mut self, name: &str) -> Result<Option<i64>, Refused> {
        self.opt_as(name, Value::as_i64)
    }

    /// A required integer in `u64`'s range (not negative, no fraction, as serde's `u64`).
    pub fn u64(&mut self, name: &str) -> Result<u64, Refused> {
        self.opt_u64(name)?.ok_or(Refused)
    }

    /// An optional integer in `u64`'s range.
    pub fn opt_u64(&mut self, name: &str) -> Result<Option<u64>, Refused> {
        self.opt_as(name, Value::as_u64)
    }

    /// A required `true` or `false`.
    pub fn bool(&mut self, name: &str) -> Result<bool, Refused> {
        self.opt_as(name, Value::as_bool)?.ok_or(Refused)
    }

    /// A required array of strings.
    pub fn strs(&mut self, name: &str) -> Result<Vec<String>, Refused> {
        match self.opt(name)? {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(Refused),
                })
                .collect(),
            _ => Err(Refused),
        }
    }

    /// An optional number, integer or not (as serde's `f64`).
    pub fn opt_f64(&mut self, name: &str) -> Result<Option<f64>, Refused> {
        self.opt_as(name, Value::as_f64)
    }
}

/// An object read straight from the text (one instantiation of serde_json's map reader for
/// every type; duplicates kept).
impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    fields.push(member);
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(Members)
    }
}

impl Read {
    /// An object as its members; an array (rare: no client sends one) through `Value`, whose
    /// reader the wasm has anyway.
    fn text(text: &str) -> Result<Read, Refused> {
        if text.trim_start().starts_with('[') {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(items)) => Ok(Read::Items(items)),
                _ => Err(Refused),
            }
        } else {
            serde_json::from_str(text).map(Read::Members).map_err(|_| Refused)
        }
    }
}

/// The index in `names` of the unit variant `d` holds, read as serde's derive of a unit-only
/// enum reads it (the variant's name, then its unit; `"x"` or `{"x": null}` from a `Value`), with
/// the same error for a name that is not one: "unknown variant `y`, expected one of …".
pub fn unit_variant<'de, D: Deserializer<'de>>(
    d: D,
    enum_name: &'static str,
    names: &'static [&'static str],
) -> Result<usize, D::Error> {
    struct Unit {
        enum_name: &'static str,
        names: &'static [&'static str],
    }
    impl<'de> Visitor<'de> for Unit {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "enum {}", self.enum_name)
        }
        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<usize, A::Error> {
            let (index, variant) = data.variant_seed(Name(self.names))?;
            variant.unit_variant()?;
            Ok(index)
        }
    }
    /// The variant's name, refused inside the deserializer (which then adds its position).
    struct Name(&'static [&'static str]);
    impl<'de> DeserializeSeed<'de> for Name {
        type Value = usize;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
            d.deserialize_identifier(self)
        }
    }
    impl Visitor<'_> for Name {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("variant identifier")
        }
        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<usize, E> {
            self.0.iter().position(|known| *known == name).ok_or_else(|| E::unknown_variant(name, self.0))
        }
    }
    d.deserialize_enum(enum_name, names, Unit { enum_name, names })
}

/// `Deserialize` for a unit-only enum by [`unit_variant`]:
/// `unit_enum!(ListView { Open = "open", Mine = "mine" })`, every variant with its wire name.
macro_rules! unit_enum {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                const NAMES: &[&str] = &[$($name),+];
                const ALL: &[$ty] = &[$($ty::$variant),+];
                // `unit_variant` answers a position in NAMES, which ALL matches one to one.
                Ok(ALL[$crate::json_fields::unit_variant(d, stringify!($ty), NAMES)?])
            }
        }
    };
}
pub(crate) use unit_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_ignores_unknown_ones() {
        let mut f = Fields::parse(r#"{"a":"x","n":-3,"f":1.5,"i":2,"z":null,"other":[1]}"#).unwrap();
        assert_eq!(f.str("a"), Ok("x".into()));
        assert_eq!(f.i64("n"), Ok(-3));
        assert_eq!(f.opt_f64("f"), Ok(Some(1.5)));
        assert_eq!(f.opt_f64("i"), Ok(Some(2.0)));
        assert_eq!(f.opt_str("z"), Ok(None));
        assert_eq!(f.opt_str("missing"), Ok(None));
        assert_eq!(f.opt_f64("missing"), Ok(None));
        // An array: the struct's fields by position, those that may be left out at the end.
        let schema: &Schema = &[("a", false), ("b", true), ("c", true)];
        let mut f = Fields::parse_struct(r#"["x", 2]"#, schema).unwrap();
        assert_eq!((f.str("a"), f.i64("b"), f.opt_str("c")), (Ok("x".into()), Ok(2), Ok(None)));
        let mut f = Fields::of_struct(serde_json::json!(["x", null, "z"]), schema).unwrap();
        assert_eq!((f.str("a"), f.opt_f64("b"), f.opt_str("c")), (Ok("x".into()), Ok(None), Ok(Some("z".into()))));
        assert!(Fields::parse_struct(r#"{"a":"x"}"#, schema).is_ok());
        let mut f = Fields::parse(r#"{"i":-1,"u":18446744073709551615,"o":null}"#).unwrap();
        assert_eq!(f.opt_i64("i"), Ok(Some(-1)));
        assert_eq!(f.u64("u"), Ok(u64::MAX));
        assert_eq!(f.opt_i64("o"), Ok(None));
        let mut f = Fields::parse(r#"{"t":true,"f":false,"l":["a","b"],"e":[],"u":7}"#).unwrap();
        assert_eq!((f.bool("t"), f.bool("f")), (Ok(true), Ok(false)));
        assert_eq!(f.strs("l"), Ok(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(f.strs("e"), Ok(vec![]));
        assert_eq!((f.opt_u64("u"), f.opt_u64("none")), (Ok(Some(7)), Ok(None)));
    }

    #[test]
    fn refuses_what_the_derives_refused() {
        for text in ["", "nul", "[\"x\"]", "\"x\"", "1", "{\"a\":\"x\"} 1", "{\"a\":\"\\ud800\"}"] {
            assert_eq!(Fields::parse(text).err(), Some(Refused), "{text}");
        }
        let mut f = Fields::parse(
            r#"{"s":1,"s2":true,"n":"1","frac":1.5,"big":18446744073709551615,"d":"x","d":"y","u":1,"u":2}"#,
        )
        .unwrap();
        assert_eq!(f.str("s"), Err(Refused), "a number for a string");
        assert_eq!(f.opt_str("s2"), Err(Refused), "a bool for a string");
        assert_eq!(f.i64("frac"), Err(Refused), "a fraction for an integer");
        assert_eq!(f.i64("big"), Err(Refused), "beyond i64");
        assert_eq!(f.opt_f64("n"), Err(Refused), "a string for a number");
        assert_eq!(f.opt_str("d"), Err(Refused), "a known field given twice");
        assert_eq!(f.str("missing"), Err(Refused), "a required field absent");
        assert_eq!(f.i64("missing"), Err(Refused));
        let mut f = Fields::parse(r#"{"neg":-1,"frac":2.5,"big":9223372036854775808,"s":"1"}"#).unwrap();
        assert_eq!(f.u64("neg"), Err(Refused), "a negative u64");
        assert_eq!(f.opt_i64("frac"), Err(Refused));
        assert_eq!(f.opt_i64("big"), Err(Refused));
        assert_eq!(f.u64("s"), Err(Refused));
        let mut f = Fields::parse(r#"{"b":1,"bn":null,"l":["a",1],"ln":null,"lo":"a","u":-1}"#).unwrap();
        assert_eq!(f.bool("b"), Err(Refused), "a number for a bool");
        assert_eq!(f.bool("bn"), Err(Refused), "null for a bool");
        assert_eq!(f.strs("l"), Err(Refused), "a number in a list of strings");
        assert_eq!(f.strs("ln"), Err(Refused), "null for a list");
        assert_eq!(f.strs("lo"), Err(Refused), "a string for a list");
        assert_eq!(f.opt_u64("u"), Err(Refused));
        assert_eq!(Fields::parse(r#"{"x":null}"#).unwrap().str("x"), Err(Refused), "null for a required string");
        let schema: &Schema = &[("a", false), ("b", true)];
        assert_eq!(Fields::of_struct(Value::Bool(true), schema).err(), Some(Refused));
        assert!(Fields::of_struct(serde_json::json!({"a": 1}), schema).is_ok());
        for text in ["[]", r#"["x","y","z"]"#, "1", "null", "\"a\""] {
            assert_eq!(Fields::parse_struct(text, schema).err(), Some(Refused), "{text}");
        }
        assert!(Fields::parse(" { } ").unwrap().is_empty());
        assert!(!Fields::parse(r#"{"a":1,"a":1}"#).unwrap().is_empty());
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Derived {
        Open,
        Mine,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum ByHand {
        Open,
        Mine,
    }
    unit_enum!(ByHand { Open = "open", Mine = "mine" });

    #[test]
    fn unit_enums_read_and_refuse_exactly_as_the_derive() {
        let cases = [
            serde_json::json!("open"),
            serde_json::json!("mine"),
            serde_json::json!({"mine": null}),
            serde_json::json!("Open"),
            serde_json::json!(""),
            serde_json::json!(1),
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(["open"]),
            serde_json::json!({}),
            serde_json::json!({"open": 1}),
            serde_json::json!({"other": null}),
            serde_json::json!({"open": null, "mine": null}),
        ];
        for value in cases {
            let derived = Derived::deserialize(value.clone()).map(|d| d as usize).map_err(|e| e.to_string());
            let by_hand = ByHand::deserialize(value.clone()).map(|d| d as usize).map_err(|e| e.to_string());
            assert_eq!(by_hand, derived, "{value}");
            let text = value.to_string();
            let derived = serde_json::from_str::<Derived>(&text).map(|d| d as usize).map_err(|e| e.to_string());
            let by_hand = serde_json::from_str::<ByHand>(&text).map(|d| d as usize).map_err(|e| e.to_string());
            assert_eq!(by_hand, derived, "{text}");
        }
        let unknown = ByHand::deserialize(serde_json::json!("x")).unwrap_err().to_string();
        assert_eq!(unknown, "unknown variant `x`, expected `open` or `mine`");
    }
}
