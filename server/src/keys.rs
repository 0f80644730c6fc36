//! The access keys the server accepts: the default account's generated key plus every key
//! configured under `[[accounts]]`.

use hearth_config::AccountKey;
use hearth_protocol::sigv4::{KeyInfo, KeyStore};
use std::collections::HashMap;

pub struct Keys {
    by_id: HashMap<String, KeyInfo>,
}

impl Keys {
    pub fn new(keys: impl IntoIterator<Item = AccountKey>) -> Self {
        let by_id = keys
            .into_iter()
            .map(|k| (k.access_key_id.clone(), KeyInfo { secret: k.secret_access_key.expose().to_string(), account: k.account_id.clone() }))
            .collect();
        Keys { by_id }
    }
}

impl KeyStore for Keys {
    fn lookup(&self, access_key: &str) -> Option<KeyInfo> {
        self.by_id.get(access_key).cloned()
    }
}
