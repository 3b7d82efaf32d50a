//! The record store: what a node holds, with expiry and republish
//! bookkeeping. Kept across transient restarts (it is on disk).

use crate::key::Key;
use crate::message::Value;
use sim_core::Time;

/// One stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
    /// When it is dropped.
    pub expires: Time,
    /// When it was last stored here by someone (republish is skipped for a
    /// record stored recently: it was just replicated).
    pub stored: Time,
    /// This node published it.
    pub original: bool,
    /// A cached copy (from caching along the lookup path).
    pub cached: bool,
}

/// Records sorted by key, at most `records_max`.
#[derive(Debug, Clone, Default)]
pub struct RecordStore {
    records: Vec<Record>,
}

/// Why a record was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The store is full.
    Full,
    /// The record has already expired.
    Expired,
}

impl RecordStore {
    /// The record under `key`.
    pub fn get(&self, key: &Key) -> Option<&Record> {
        self.records
            .binary_search_by(|r| r.key.cmp(key))
            .ok()
            .map(|i| &self.records[i])
    }

    /// Store or update a record. A newer version replaces an older one; a
    /// cached copy never replaces a real one.
    pub fn put(&mut self, rec: Record, now: Time, records_max: usize) -> Result<(), StoreError> {
        if rec.expires <= now {
            return Err(StoreError::Expired);
        }
        match self.records.binary_search_by(|r| r.key.cmp(&rec.key)) {
            Ok(i) => {
                let old = &mut self.records[i];
                if rec.cached && !old.cached {
                    return Ok(());
                }
                if rec.value.version >= old.value.version {
                    let original = old.original || rec.original;
                    *old = rec;
                    old.original = original;
                } else {
                    old.stored = now;
                }
                Ok(())
            }
            Err(i) => {
                if self.records.len() >= records_max {
                    return Err(StoreError::Full);
                }
                self.records.insert(i, rec);
                Ok(())
            }
        }
    }

    /// Drop expired records; returns how many.
    pub fn expire(&mut self, now: Time) -> usize {
        let before = self.records.len();
        self.records.retain(|r| r.expires > now);
        before - self.records.len()
    }

    /// The earliest expiry.
    pub fn next_expiry(&self) -> Option<Time> {
        self.records.iter().map(|r| r.expires).min()
    }

    /// All records, by key.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Mutable access for republish bookkeeping.
    pub fn records_mut(&mut self) -> &mut [Record] {
        &mut self.records
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Forget everything (a permanent departure).
    pub fn clear(&mut self) {
        self.records = Vec::new();
    }
}
