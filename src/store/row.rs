//! Rows read by position (`raw`), not through serde: a serde struct per query cost the wasm
//! kilobytes each (serde_wasm_bindgen's deserialiser monomorphised per row type) and every row a
//! JS object with its keys. Each query's columns are read in its `SELECT` order. Queries of many
//! rows (the sidebar's pages, their contexts) come [`packed`]: each row one JSON text.

use worker::{SqlCursor, SqlStorage, SqlStorageValue as V};

/// One row's values, taken out column by column.
pub struct Row(Vec<V>);

/// Every row of `cursor`.
pub fn rows(cursor: SqlCursor) -> worker::Result<Vec<Row>> {
    cursor.raw().map(|r| r.map(Row)).collect()
}

/// The first row of `cursor`, if any (for queries of one row; the cursor is read to its end).
pub fn first(cursor: SqlCursor) -> worker::Result<Option<Row>> {
    Ok(rows(cursor)?.into_iter().next())
}

/// Every row of `query`, each read as one text: `query` selects each row as a JSON array in a
/// column named `r` (`json_array(a, b, ...) AS r`), in `order` (an `ORDER BY` of `query`'s
/// columns, empty for any order). A raw cursor costs several calls from wasm into JavaScript per
/// value (the row array, each cell, its type): ~7 ms for a 500-row sidebar with its contexts; a
/// row as one text is a few calls, parsed in wasm. Not all rows as one text: SQLite refuses a
/// text over 2 MB (workerd's limit on a string or row), which 501 contexts at their limits pass
/// (a row is at most ~40 KB of JSON: every field at its limit, every character escaped twice);
/// and grouping rows into texts of a few made SQLite sort them again, which cost more than it
/// saved. Values as a raw read gives them, except that a BLOB cannot be in JSON (SQLite refuses
/// the query): never select one here.
pub fn packed(sql: &SqlStorage, query: &str, order: &str, args: Vec<V>) -> worker::Result<Vec<Row>> {
    let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {order}") };
    let texts = rows(sql.exec(&format!("SELECT r FROM ({query}){order}"), args)?)?;
    texts.into_iter().map(|mut text| unpack(&text.str(0))).collect()
}

/// The row of one text of a [`packed`] read.
fn unpack(text: &str) -> worker::Result<Row> {
    serde_json::from_str(text).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// A row straight from its JSON array, each value as a raw read would give it (no
/// `serde_json::Value` in between: one allocation per text, none per number).
impl<'de> serde::Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Values;
        impl<'de> serde::de::Visitor<'de> for Values {
            type Value = Row;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a row as a JSON array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Row, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(17));
                while let Some(Cell(v)) = seq.next_element()? {
                    values.push(v);
                }
                Ok(Row(values))
            }
        }
        d.deserialize_seq(Values)
    }
}

/// One value of a packed row.
struct Cell(V);

impl<'de> serde::Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct One;
        impl<'de> serde::de::Visitor<'de> for One {
            type Value = Cell;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text, a number or null")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Cell, E> {
                Ok(Cell(V::String(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Cell, E> {
                Ok(Cell(V::String(s)))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Cell, E> {
                Ok(Cell(V::Integer(n)))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Cell, E> {
                Ok(Cell(i64::try_from(n).map_or(V::Float(n as f64), V::Integer)))
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Cell, E> {
                Ok(Cell(V::Float(f)))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Cell, E> {
                Ok(Cell(V::Boolean(b)))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Cell, E> {
                Ok(Cell(V::Null))
            }
        }
        d.deserialize_any(One)
    }
}

impl Row {
    /// Column `i` as text (taken out of the row); `None` when NULL or not text.
    pub fn opt_str(&mut self, i: usize) -> Option<String> {
        match self.0.get_mut(i).map(|v| std::mem::replace(v, V::Null)) {
            Some(V::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Column `i` as text; empty when NULL.
    pub fn str(&mut self, i: usize) -> String {
        self.opt_str(i).unwrap_or_default()
    }

    /// Column `i` as an integer; `None` when NULL or not a number.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(V::Integer(n)) => Some(*n),
            Some(V::Float(f)) => Some(*f as i64),
            Some(V::Boolean(b)) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// Column `i` as an integer; 0 when NULL.
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }

    /// Column `i` as a number; 0 when NULL.
    pub fn float(&self, i: usize) -> f64 {
        match self.0.get(i) {
            Some(V::Float(f)) => *f,
            Some(V::Integer(n)) => *n as f64,
            _ => 0.0,
        }
    }

    /// Column `i` as a count (NULL, negative or too large read as 0 / saturated).
    pub fn count(&self, i: usize) -> u32 {
        self.int(i).clamp(0, u32::MAX.into()) as u32
    }
}
