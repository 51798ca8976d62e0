//! `u64` as a decimal string on the wire (`#[serde(with = "decimal")]`). A bare JSON
//! number is accepted on input too, but never produced.

use serde::{de::Error, Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Text(String),
        Number(u64),
    }
    match Wire::deserialize(deserializer)? {
        Wire::Number(value) => Ok(value),
        Wire::Text(text) => {
            // `u64::from_str` accepts a leading `+`; a decimal string here does not.
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(D::Error::custom(format!("not a decimal u64: {text:?}")));
            }
            text.parse()
                .map_err(|_| D::Error::custom(format!("out of range for u64: {text}")))
        }
    }
}
