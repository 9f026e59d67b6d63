//! The attacks' neighbour tables (`--neighbours`, the page's word resources): any bytes give a
//! table or an error, and every row of an accepted table can be looked up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rticket_core::attack::NeighbourTable;

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = NeighbourTable::from_bytes(data) {
        for i in 0..table.len().min(64) {
            let word = table.word(i).to_owned();
            for (neighbour, cosine) in table.neighbours(&word) {
                assert!(table.contains(neighbour) && cosine.is_finite(), "{word} -> {neighbour} {cosine}");
            }
        }
        let _ = table.check_source("0".repeat(64).as_str());
    }
});
