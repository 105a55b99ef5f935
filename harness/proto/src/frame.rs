//! Line framing for the result channel: one JSON message per line behind a fixed marker.
//!
//! The marker lets the reader ignore anything else that reaches the channel (a stray kernel
//! message, line noise) instead of failing the run.

use serde::{de::DeserializeOwned, Serialize};

/// Every framed line starts with this marker.
pub const MARKER: &str = "@pc1 ";

/// Encode one message as a single line, newline included.
pub fn encode<T: Serialize>(msg: &T) -> String {
    // Serialising our own enums to a string cannot fail (no maps with non-string keys).
    let json = serde_json::to_string(msg).unwrap_or_else(|e| format!("{{\"encode_error\":\"{e}\"}}"));
    format!("{MARKER}{json}\n")
}

/// Why a line is not a message.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("line has no pollcheck marker")]
    NotFramed,
    #[error("failed to decode message: {0}")]
    Json(#[from] serde_json::Error),
}

/// Decode one line (with or without its newline or a carriage return).
pub fn decode<T: DeserializeOwned>(line: &str) -> Result<T, FrameError> {
    let line = line.trim_end_matches(['\n', '\r']);
    let start = line.find(MARKER).ok_or(FrameError::NotFramed)?;
    Ok(serde_json::from_str(&line[start + MARKER.len()..])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaseId, Event, Features, Outcome, Request, PROTOCOL_VERSION};

    #[test]
    fn round_trips_every_message_shape() {
        let case = CaseId::new("busy_poll", "params");
        let events = vec![
            Event::Ready { protocol: PROTOCOL_VERSION, features: Features::default() },
            Event::Started { case: case.clone() },
            Event::Log { case: case.clone(), line: "hello \"quoted\"\nnext".into() },
            Event::Done {
                case: case.clone(),
                outcome: Outcome::absent(crate::Feature::EpollParams, "no"),
                duration_ms: 3,
            },
        ];
        for e in events {
            let line = encode(&e);
            assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
            assert_eq!(decode::<Event>(&line).expect("decodes"), e);
        }
        let r = Request::Run { case: case.clone(), timeout_ms: 5, params: None };
        assert_eq!(decode::<Request>(&encode(&r)).expect("decodes"), r);
        let with = Request::Run { case, timeout_ms: 5, params: Some(serde_json::json!({"rates": [100.0, 200.0]})) };
        assert_eq!(decode::<Request>(&encode(&with)).expect("decodes"), with);
    }

    #[test]
    fn run_params_are_optional_on_the_wire() {
        // No params: the field is left out, so the line is what a host before params sent ...
        let plain = encode(&Request::Run { case: CaseId::new("s", "c"), timeout_ms: 7, params: None });
        assert!(!plain.contains("params"), "{plain}");
        // ... and such a line decodes as a run without params.
        let old =
            format!(r#"{MARKER}{{"type":"run","case":{{"suite":"s","case":"c","variant":null}},"timeout_ms":7}}"#);
        let want = Request::Run { case: CaseId::new("s", "c"), timeout_ms: 7, params: None };
        assert_eq!(decode::<Request>(&old).expect("decodes"), want);
    }

    #[test]
    fn ignores_noise_before_marker_and_rejects_unframed() {
        let line = format!("\u{0}garbage{}", encode(&Request::Shutdown));
        assert_eq!(decode::<Request>(&line).expect("decodes"), Request::Shutdown);
        assert!(matches!(decode::<Request>("[ 1.0] random"), Err(FrameError::NotFramed)));
    }
}
