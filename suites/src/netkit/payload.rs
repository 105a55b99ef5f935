//! Known data to send and verify: a pseudo-random byte stream both ends can generate from a seed,
//! and self-checking datagrams (sequence number, length, FNV-1a checksum of the payload).

/// xorshift64* bytes from `seed`: the sender writes them, the receiver regenerates and compares.
#[derive(Debug, Clone)]
pub struct Stream(u64);

impl Stream {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Fill `buf` with the next bytes of the stream.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Header: sequence (4), payload length (4), checksum (8).
const HEADER: usize = 16;

/// Datagram `seq` with `len` payload bytes generated from the sequence number.
pub fn datagram(seq: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; HEADER + len];
    Stream::new(u64::from(seq) << 17 ^ 0x9e37).fill(&mut out[HEADER..]);
    let sum = fnv1a(&out[HEADER..]);
    out[..4].copy_from_slice(&seq.to_be_bytes());
    out[4..8].copy_from_slice(&(len as u32).to_be_bytes());
    out[8..16].copy_from_slice(&sum.to_be_bytes());
    out
}

/// What a received datagram turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Intact(u32),
    /// Too short, wrong length field, or a checksum or payload mismatch (the sequence if legible).
    Corrupt(Option<u32>),
}

/// Check a received datagram against what [`datagram`] makes.
pub fn check(buf: &[u8]) -> Check {
    let Some(head) = buf.get(..HEADER) else { return Check::Corrupt(None) };
    let seq = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if buf.len() != HEADER + len || datagram(seq, len) != buf {
        return Check::Corrupt(Some(seq));
    }
    Check::Intact(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_from_the_seed_and_differ_between_seeds() {
        let (mut a, mut b, mut c) = (Stream::new(7), Stream::new(7), Stream::new(8));
        let (mut x, mut y, mut z) = ([0u8; 37], [0u8; 37], [0u8; 37]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn fnv_known_value() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn datagrams_check_and_corruption_is_caught() {
        let d = datagram(42, 100);
        assert_eq!(check(&d), Check::Intact(42));
        let mut bad = d.clone();
        bad[60] ^= 1;
        assert_eq!(check(&bad), Check::Corrupt(Some(42)));
        assert_eq!(check(&d[..50]), Check::Corrupt(Some(42)));
        assert_eq!(check(&d[..3]), Check::Corrupt(None));
    }
}
