//! The WordNet parser (data.* files and *.exc exception lists): any bytes give a WordNet or an
//! error, and lookups on what it accepts do not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rticket_core::attack::{Pos, WordNet};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the part of speech; the rest is split at the first NUL into a data
    // file and an exception list.
    let Some((&pick, rest)) = data.split_first() else { return };
    let pos = [Pos::Noun, Pos::Verb, Pos::Adjective, Pos::Adverb][usize::from(pick % 4)];
    let (file, exceptions) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(mut wordnet) = WordNet::from_data_files(&[(pos, file)]) else { return };
    let _ = wordnet.add_exceptions(pos, exceptions);
    for word in ["good", "films", "ran", "", "a_b"] {
        for synonym in wordnet.synonyms(word) {
            let _ = wordnet.are_antonyms(word, synonym);
        }
        let _ = (wordnet.lemma_keys(word), wordnet.pos(word), wordnet.antonyms(word));
    }
});
