//! The calls running detection, by channel UUID.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::call::Call;

fn map() -> MutexGuard<'static, HashMap<String, Arc<Call>>> {
    static CALLS: OnceLock<Mutex<HashMap<String, Arc<Call>>>> = OnceLock::new();
    CALLS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

pub fn get(uuid: &str) -> Option<Arc<Call>> {
    map().get(uuid).cloned()
}

/// Adds `call` unless its channel already has a call that has not ended; returns that one.
/// An ended call still in the map (its bug closed, its entry not yet removed) is replaced.
/// Checked and replaced under one lock, so two starts at once cannot both get in.
pub fn insert(call: &Arc<Call>) -> Result<(), Arc<Call>> {
    let mut m = map();
    if let Some(existing) = m.get(&call.uuid).filter(|c| !c.ended()) {
        return Err(existing.clone());
    }
    m.insert(call.uuid.clone(), call.clone());
    Ok(())
}

/// Removes `call` (and only that call) from the registry.
pub fn remove(call: &Arc<Call>) {
    let mut m = map();
    if m.get(&call.uuid).is_some_and(|c| Arc::ptr_eq(c, call)) {
        m.remove(&call.uuid);
    }
}

pub fn all() -> Vec<Arc<Call>> {
    map().values().cloned().collect()
}

pub fn len() -> usize {
    map().len()
}
