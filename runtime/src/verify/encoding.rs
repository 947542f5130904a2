//! Reading signatures and digests written as hex or base64, into stack buffers.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use hookspec_core::SignatureEncoding as Encoding;

/// Buffer size for a decoded signature or digest: the largest read is 64 bytes (SHA-512,
/// ES256), plus room for base64's conservative length estimate.
pub(crate) const DECODE_BUF: usize = 72;

/// `text` decoded per `encoding` into `out`; the number of bytes, or `None` when it is not
/// valid or longer than `out`.
pub(crate) fn decode_into(encoding: Encoding, text: &[u8], out: &mut [u8]) -> Option<usize> {
    match encoding {
        Encoding::HexUpper | Encoding::HexLower => decode_hex(text, out),
        Encoding::Base64 => STANDARD.decode_slice(text, out).ok(),
        Encoding::Base64url => URL_SAFE_NO_PAD.decode_slice(text, out).ok(),
    }
}

/// `bytes` written per `encoding`.
pub(crate) fn encode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::HexLower => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Encoding::HexUpper => bytes.iter().map(|b| format!("{b:02X}")).collect(),
        Encoding::Base64 => STANDARD.encode(bytes),
        Encoding::Base64url => URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// Hex in either case, as senders differ from what they document.
fn decode_hex(text: &[u8], out: &mut [u8]) -> Option<usize> {
    if !text.len().is_multiple_of(2) || text.len() / 2 > out.len() {
        return None;
    }
    let mut invalid = 0u8;
    for (pair, slot) in text.chunks_exact(2).zip(out.iter_mut()) {
        let (hi, lo) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
        invalid |= hi | lo;
        *slot = (hi << 4) | (lo & 0x0f);
    }
    (invalid & 0xf0 == 0).then_some(text.len() / 2)
}

/// Value of each hex digit; 0xff for every other byte.
const HEX: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_either_case_and_rejects_odd_or_foreign() {
        let mut out = [0u8; 4];
        assert_eq!(decode_into(Encoding::HexUpper, b"0aFf", &mut out), Some(2));
        assert_eq!(&out[..2], &[0x0a, 0xff]);
        assert_eq!(decode_into(Encoding::HexLower, b"0aF", &mut out), None);
        assert_eq!(decode_into(Encoding::HexLower, b"zz", &mut out), None);
        assert_eq!(
            decode_into(Encoding::HexLower, b"0011223344", &mut out),
            None
        );
    }

    #[test]
    fn base64_variants() {
        let mut out = [0u8; 8];
        assert_eq!(decode_into(Encoding::Base64, b"+/8=", &mut out), Some(2));
        assert_eq!(&out[..2], &[0xfb, 0xff]);
        assert_eq!(decode_into(Encoding::Base64url, b"-_8", &mut out), Some(2));
        assert_eq!(decode_into(Encoding::Base64url, b"-_8=", &mut out), None);
    }

    #[test]
    fn sixty_four_bytes_fit_the_buffer_in_every_encoding() {
        let raw = [0xa5u8; 64];
        let mut out = [0u8; DECODE_BUF];
        for (enc, text) in [
            (Encoding::Base64, STANDARD.encode(raw)),
            (Encoding::Base64url, URL_SAFE_NO_PAD.encode(raw)),
            (Encoding::HexLower, "a5".repeat(64)),
        ] {
            assert_eq!(
                decode_into(enc, text.as_bytes(), &mut out),
                Some(64),
                "{enc:?}"
            );
            assert_eq!(out[..64], raw);
        }
    }
}
