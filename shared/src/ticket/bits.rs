//! Bit packing of masks: element i is bit (i % 8) of byte (i / 8), least significant bit first.

/// Packs booleans into bytes, LSB first; unused high bits of the last byte are zero.
pub fn pack_bits(bits: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, &b) in bits.iter().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

/// Unpacks `len` booleans. `bytes` must hold exactly `len.div_ceil(8)` bytes.
pub fn unpack_bits(bytes: &[u8], len: usize) -> Vec<bool> {
    (0..len).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect()
}

/// Number of set bits.
pub fn popcount(bytes: &[u8]) -> usize {
    bytes.iter().map(|b| b.count_ones() as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_lsb_first_and_round_trips() {
        let bits = [true, false, false, false, false, false, false, false, false, true];
        let packed = pack_bits(&bits);
        assert_eq!(packed, vec![0b0000_0001, 0b0000_0010]);
        assert_eq!(unpack_bits(&packed, bits.len()), bits);
        assert_eq!(popcount(&packed), 2);
    }
}
