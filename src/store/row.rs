//! Rows read by position (`raw`), not through serde: a serde struct per query cost the wasm
//! kilobytes each (serde_wasm_bindgen's deserialiser monomorphised per row type) and every row a
//! JS object with its keys. Each query's columns are read in its `SELECT` order.

use worker::{SqlCursor, SqlStorageValue as V};

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
