//! The host end of the result channel: framed events in (on a thread), requests out.

use super::VmEvent;
use pollcheck_proto::{frame, Event, Request};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::Sender;

/// Read framed events until the channel closes, then send [`VmEvent::ChannelClosed`].
pub fn pump(stream: UnixStream, events: Sender<VmEvent>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if let Ok(ev) = frame::decode::<Event>(&line) {
                    let _ = events.send(VmEvent::Agent(ev));
                }
            }
        }
    }
    let _ = events.send(VmEvent::ChannelClosed);
}

/// Send one request; false when the channel is gone.
pub fn send(stream: &mut UnixStream, req: &Request) -> bool {
    stream.write_all(frame::encode(req).as_bytes()).and_then(|()| stream.flush()).is_ok()
}
