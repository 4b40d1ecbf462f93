//! The Keeper Gateway's side of the contract: the one stdin line, and the records in it.
//!
//! The gateway runs a post-rotation program with one base64 line on stdin. Decoded, it is a
//! JSON object with `user`, `newPassword`, `oldPassword`, three record UIDs, and `records`:
//! base64 of a JSON array of flattened vault records (`uid`, `title`, and one key per field
//! label, or field type where unlabelled). This module turns that line into a [`Payload`] and
//! finds records in it. It knows nothing of Tenable or HTTP; `config` reads the Tenable
//! fields out of the record this module finds.

mod error;
mod payload;
mod records;

pub use error::KeeperError;
pub use payload::{FieldValue, MAX_PAYLOAD_BYTES, Payload, parse_payload, read_line};
pub use records::{Record, find_record};
