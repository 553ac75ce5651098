//! The functions' states a runtime loaded, by id: what its writer drains
//! the calls of, where retention's deletions reach memory, and where
//! payloads leave it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::model::outcome::Facts;
use crate::runtime::payloads::{Cached, Evict};
use crate::runtime::state::FunctionState;
use crate::store::calls::CallBatch;
use crate::store::writer::Activity;

#[derive(Default)]
pub(crate) struct Loaded(RwLock<HashMap<&'static str, Arc<FunctionState>>>);

impl Loaded {
    /// The state of the function with this id, if it is loaded.
    pub(crate) fn get(&self, function_id: &str) -> Option<Arc<FunctionState>> {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(function_id).cloned()
    }

    /// Adds a state; one loaded meanwhile by another thread wins.
    pub(crate) fn insert(&self, state: FunctionState) -> Arc<FunctionState> {
        let mut states = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(states.entry(state.id).or_insert_with(|| Arc::new(state)))
    }

    /// Every loaded state.
    pub(crate) fn all(&self) -> Vec<Arc<FunctionState>> {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }
}

impl Activity for Loaded {
    fn drain(&self) -> Vec<(&'static str, CallBatch)> {
        self.all().iter().map(|state| (state.id, state.calls.drain())).collect()
    }

    fn written(&self, function_id: &str, outcome_ids: &[u64]) {
        if let Some(state) = self.get(function_id) {
            state.written(outcome_ids);
        }
    }

    fn dropped(&self, function_id: &str, outcomes: &[Facts]) {
        if let Some(state) = self.get(function_id) {
            let dropped: Vec<(u64, u128)> = outcomes.iter().map(|facts| (facts.id, facts.arg_key)).collect();
            state.index_mut().remove_all(&dropped);
        }
    }
}

impl Evict for Loaded {
    fn evict(&self, function_id: &str, id: u64, cached: &Arc<Cached>) {
        if let Some(state) = self.get(function_id) {
            state.index_mut().drop_payload(id, cached);
        }
    }
}
