//! Inputs on which the fuzz targets (`fuzz/fuzz_targets/`, `scripts/fuzz.sh`) once failed, kept so
//! that each stays fixed. The file name says which reader it is for.

use rticket_core::attack::{NeighbourTable, Pos, WordNet};
use rticket_core::ticket::Ticket;

fn inputs(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the regression inputs are in the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {prefix} inputs in {}", dir.display());
    found
}

#[test]
fn a_ticket_with_a_nan_weight_is_refused_as_corrupt() {
    // The fuzzer's input read as a ticket whose head held NaN, which wrote back to bytes that
    // read as another ticket (NaN != NaN): now the reader refuses it.
    for (name, bytes) in inputs("ticket-nan-") {
        let err = Ticket::from_bytes(&bytes).expect_err(&name).to_string();
        assert!(err.contains(" is NaN: the file is corrupt") || err.contains(" is inf: the file is corrupt"), "{name}: {err}");
    }
}

#[test]
fn a_ticket_listing_a_matrix_twice_is_refused() {
    // Read, it wrote back two tensors of one name, and safetensors' writer panicked.
    for (name, bytes) in inputs("ticket-twice-") {
        let err = Ticket::from_bytes(&bytes).expect_err(&name).to_string();
        assert!(err.contains("is listed twice"), "{name}: {err}");
    }
}

#[test]
fn a_neighbour_table_with_a_nan_cosine_is_refused() {
    for (name, bytes) in inputs("neighbours-") {
        let err = NeighbourTable::from_bytes(&bytes).expect_err(&name).to_string();
        assert!(err.contains("not in [-1, 1]"), "{name}: {err}");
    }
}

#[test]
fn a_wordnet_line_with_a_huge_word_count_reserves_nothing_for_it() {
    // `w_cnt` ffffffffff once reserved 206 GB before the line ran out of fields.
    for (name, bytes) in inputs("wordnet-") {
        let (&pick, rest) = bytes.split_first().unwrap();
        let pos = [Pos::Noun, Pos::Verb, Pos::Adjective, Pos::Adverb][usize::from(pick % 4)];
        let file = rest.split(|&b| b == 0).next().unwrap();
        assert!(WordNet::from_data_files(&[(pos, file)]).is_err(), "{name}: a corrupt line was accepted");
    }
}
